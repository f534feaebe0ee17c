"""The plan as Markdown (for the operator and the change ticket) and JSON (for machines).

Secrets never appear: key values show as `<encrypted>` or masked, file
contents as sizes and checksums with a unified diff for text edits of existing files.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from mageguard.fix.encryptor import is_encrypted
from mageguard.fix.model import FileChange, Plan, RowChange, Step
from mageguard.scan.analyzers.secrets import mask

MAX_DIFF_LINES = 60


def _value(row: RowChange, value: str | None) -> str | None:
    if value is None:
        return None
    if row.secret:
        return "<encrypted>" if is_encrypted(value) else mask(value)
    return value


def _file(change: FileChange) -> dict[str, Any]:
    action = "create" if change.old is None else "delete" if change.new is None else "modify"
    return {
        "path": change.path,
        "action": action,
        "old_sha256": change.old_sha256,
        "new_sha256": change.new_sha256,
        "bytes": len(change.new or b""),
    }


def _row(row: RowChange) -> dict[str, Any]:
    action = "insert" if row.old is None else "delete" if row.new is None else "update"
    return {
        "action": action,
        "scope": row.scope,
        "scope_id": row.scope_id,
        "path": row.path,
        "old": _value(row, row.old),
        "new": _value(row, row.new),
    }


def to_json(plan: Plan) -> str:
    doc = {
        "root": plan.root,
        "database": plan.database,
        "gateway_url": plan.gateway_url,
        "tenants": list(plan.tenants),
        "noop": plan.is_noop,
        "summary": {
            "steps": len(plan.steps),
            "rows": len(plan.rows),
            "files": len(plan.files),
            "resolved_findings": len(plan.resolved),
            "explained_findings": len(plan.explained),
        },
        "steps": [
            {
                "order": i,
                "id": s.id,
                "kind": s.kind.value,
                "surface": s.surface,
                "title": s.title,
                "where": s.where,
                "undo": s.undo,
                "findings": list(s.findings),
                "rows": [_row(r) for r in s.rows],
                "files": [_file(f) for f in s.files],
                "notes": list(s.notes),
            }
            for i, s in enumerate(plan.steps, 1)
        ],
        "explained": [
            {
                "fingerprint": e.fingerprint,
                "rule_id": e.rule_id,
                "surface": e.surface,
                "location": e.location,
                "reason": e.reason,
                "action": e.action,
            }
            for e in plan.explained
        ],
        "commands": list(plan.commands),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_markdown(plan: Plan) -> str:
    out = [
        "# mageguard fix plan",
        "",
        f"Store `{plan.root}`"
        + (f", database `{plan.database}`" if plan.database else "")
        + f"; gateway `{plan.gateway_url}`; tenants: {', '.join(plan.tenants) or 'none'}.",
        "",
    ]
    if plan.is_noop:
        out += ["**Nothing to change**: the store already matches this plan.", ""]
    else:
        out += [
            f"{len(plan.steps)} steps, {len(plan.rows)} configuration rows and "
            f"{len(plan.files)} files change; {len(plan.resolved)} findings are resolved, "
            f"{len(plan.explained)} are explained below. This is a dry run: "
            "`--apply` carries it out after writing a backup bundle; `--rollback BUNDLE` "
            "undoes it.",
            "",
        ]
    for i, step in enumerate(plan.steps, 1):
        out += _step(i, step)
    if plan.explained:
        out += [
            "## Findings left for the operator",
            "",
            "| surface | rule | where | why it is left | what to do |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {e.surface} | `{e.rule_id}` | `{e.location}` | {e.reason} | {e.action} |"
            for e in plan.explained
        ]
        out.append("")
    out += ["## After apply", ""] + [f"    {c}" for c in plan.commands] + [""]
    return "\n".join(out)


def _step(i: int, step: Step) -> list[str]:
    out = [
        f"## {i}. {step.title}",
        "",
        f"- surface: {step.surface}; kind: {step.kind.value}",
        f"- where: {step.where}",
        f"- undo: {step.undo}",
        f"- resolves {len(step.findings)} finding(s)",
    ]
    out += [f"- note: {n}" for n in step.notes]
    out.append("")
    if step.rows:
        out += ["| action | scope | path | old | new |", "|---|---|---|---|---|"]
        for r in step.rows:
            d = _row(r)
            out.append(
                f"| {d['action']} | {r.scope}/{r.scope_id} | `{r.path}` | "
                f"{_cell(d['old'])} | {_cell(d['new'])} |"
            )
        out.append("")
    for f in step.files:
        out += _file_md(f)
    return out


def _cell(value: str | None) -> str:
    return "-" if value is None else f"`{value}`"


def _file_md(change: FileChange) -> list[str]:
    d = _file(change)
    head = f"- {d['action']} `{change.path}` ({d['bytes']} bytes)"
    if change.old is None or change.new is None:
        return [head]
    try:
        old, new = change.old.decode("utf-8"), change.new.decode("utf-8")
    except UnicodeDecodeError:
        return [head]
    diff = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"a/{change.path}", f"b/{change.path}", lineterm=""
        )
    )
    if "env.php" in change.path:  # values there are keys: show which lines, not what
        diff = [
            ln
            if not ln.startswith(("+", "-")) or ln.startswith(("+++", "---"))
            else ln[0] + "  <changed line>"
            for ln in diff
        ]
    shown = diff[:MAX_DIFF_LINES]
    more = [f"... {len(diff) - len(shown)} more lines"] if len(diff) > len(shown) else []
    return [head, "", "```diff", *shown, *more, "```", ""]
