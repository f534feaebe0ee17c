"""The plan's file steps: key fields given the Encrypted backend (system.xml),
prompt-writing log handlers switched off (di.xml) and hard-coded endpoints the connector
cannot reach pointed at the gateway, each file's edits gathered into one step, with a
composer patch for files under vendor/."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from mageguard.fix import files_plan, phpfile
from mageguard.fix.connector import CALL_RULES, Route, routes_call
from mageguard.fix.model import FileChange, Kind, Step, surface_rank
from mageguard.fix.store import Store
from mageguard.scan.finding import Finding


@dataclass(frozen=True)
class _Edit:
    """One kind of file edit: the step it makes and, for vendor/ files, the patch's name."""

    kind: Kind
    title: str
    patch_note: str  # the composer patch's description, for files under vendor/


_ENCRYPTED = _Edit(
    Kind.PATCH,
    "key fields get Magento's Encrypted backend (values are stored encrypted)",
    "encrypted key fields",
)
_NULL_HANDLER = _Edit(
    Kind.LOG_HYGIENE,
    "the Monolog handler that writes prompts and answers is switched off (NullHandler)",
    "no prompt logging",
)
_ENDPOINT = _Edit(
    Kind.PATCH,
    "hard-coded endpoint the connector cannot reach (no plugged client) pointed at the "
    "gateway; a hard-coded provider key beside it replaced by the gateway key of the default "
    "website",
    "AI endpoint to the gateway",
)


def file_steps(
    store: Store,
    findings: list[Finding],
    routes: tuple[Route, ...],
    gateway_url: str,
    key_for: Callable[[str, str], str],
) -> list[Step]:
    """One step per file that changes (its findings, its composer patch under vendor/),
    then composer.json when it must list new patches."""
    steps: list[Step] = []
    edits: dict[str, tuple[str, str, list[Finding]]] = {}  # path -> (old, new, findings)
    kinds: dict[str, _Edit] = {}

    def edit(f: Finding, how: _Edit, change: Callable[[str], str | None]) -> bool:
        path = f.location.path
        if path not in edits:
            try:
                old = (store.root / path).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                return False
            edits[path] = (old, old, [])
        old, current, done = edits[path]
        new = change(current)
        if new is None:
            return False
        edits[path] = (old, new, [*done, f])
        kinds[path] = how
        return True

    for f in findings:
        if f.rule_id == "system-xml-key-unencrypted":
            edit(f, _ENCRYPTED, functools.partial(files_plan.encrypted_field, line=f.location.line))
        elif f.rule_id == "di-ai-log-handler":
            edit(f, _NULL_HANDLER, functools.partial(files_plan.null_handler, line=f.location.line))
    patched = _endpoint_edits(store, findings, routes, gateway_url, key_for, edit)
    vendor: list[files_plan.VendorPatch] = []
    for path, (old, new, done) in sorted(edits.items()):
        if not done:
            continue
        how = kinds[path]
        fps = [f.fingerprint for f in done]
        if how is _NULL_HANDLER:
            modules = {f.module for f in done}
            fps += [
                f.fingerprint
                for f in findings
                if f.rule_id == "php-prompt-logging" and f.module in modules
            ]
        files: list[FileChange] = [FileChange(path, old.encode("utf-8"), new.encode("utf-8"))]
        pkg = files_plan.vendor_package(path)
        if pkg is not None:
            package, inner = pkg
            description = f"mageguard: {how.patch_note} in {inner}"
            name = f"{package.replace('/', '-')}-{inner.replace('/', '-')}"
            patch_path = f"{files_plan.PATCH_DIR}/{name}.patch"
            text = files_plan.unified_patch(inner, old, new)
            vendor.append(files_plan.VendorPatch(package, patch_path, description, text))
            patch = store.file_change(patch_path, text.encode("utf-8"))
            if patch is not None:
                files.append(patch)
        surface = min((f.surface for f in done), key=surface_rank)
        steps.append(
            Step(
                id=f"file:{path}",
                kind=how.kind,
                surface="logging" if how is _NULL_HANDLER else surface,
                title=how.title,
                where=path + (" (+ composer patch)" if pkg else ""),
                undo="rollback restores the file byte for byte",
                findings=tuple(fps),
                files=tuple(f for f in files if f is not None),
                notes=patched.get(path, ()),
            )
        )
    if vendor:
        composer = store.root / "composer.json"
        if composer.is_file():
            old_json = composer.read_bytes()
            new_json = files_plan.register_patches(old_json, vendor)
            if new_json != old_json:
                steps.append(
                    Step(
                        id="file:composer.json",
                        kind=Kind.PATCH,
                        surface=min((s.surface for s in steps), key=surface_rank),
                        title=(
                            "composer.json lists the vendor patches (cweagans/composer-patches) "
                            "so composer install keeps them"
                        ),
                        where="composer.json extra.patches",
                        undo="rollback restores the file byte for byte",
                        files=(FileChange("composer.json", old_json, new_json),),
                    )
                )
    return steps


def _endpoint_edits(
    store: Store,
    findings: list[Finding],
    routes: tuple[Route, ...],
    gateway_url: str,
    key_for: Callable[[str, str], str],
    edit: Callable[[Finding, _Edit, Callable[[str], str | None]], bool],
) -> dict[str, tuple[str, ...]]:
    """Calls the connector cannot reach (raw curl_*, streams) to a provider the gateway
    stands in for, whose host is a literal in the calling file: the literal is pointed at
    the gateway, and a hard-coded key of that provider in the same file becomes the gateway
    key of the default website (a raw call cannot say which website it serves). Returns the
    notes of each patched file."""
    site = store.default_website
    gateway = {r.provider for r in routes if r.protocol is not None}
    notes: dict[str, tuple[str, ...]] = {}
    patched: dict[str, set[str]] = defaultdict(set)  # path -> providers
    for f in findings:
        if (
            f.rule_id not in CALL_RULES
            or routes_call(f, routes)
            or f.provider not in gateway
            or not f.host
            or not f.location.path.endswith((".php", ".phtml"))
        ):
            continue
        point = functools.partial(_pointed, host=f.host, gateway_url=gateway_url)
        if edit(f, _ENDPOINT, point) or f.location.path in patched:
            patched[f.location.path].add(f.provider or "")
    for f in findings:
        if site is None or f.rule_id != "hardcoded-ai-key":
            continue
        if f.provider not in patched.get(f.location.path, set()):
            continue
        swap = functools.partial(
            _swapped,
            line=f.location.line,
            column=f.location.column,
            key=key_for(site.code, f.surface),
        )
        if edit(f, _ENDPOINT, swap):
            notes[f.location.path] = (
                f"revoke the replaced {f.provider} key at the provider: it stays in the "
                "repository's history",
                f"calls from every website authenticate as {site.code}; the connector "
                "(Magento's Curl, Guzzle or Laminas client) would name each website",
            )
    return notes


def _pointed(text: str, host: str, gateway_url: str) -> str | None:
    new = phpfile.gateway_endpoints(text.encode("utf-8"), host, gateway_url)
    return new.decode("utf-8") if new is not None else None


def _swapped(text: str, line: int, column: int, key: str) -> str | None:
    new = phpfile.key_literal(text.encode("utf-8"), line, column, key)
    return new.decode("utf-8") if new is not None else None
