"""File edits: key fields given the Encrypted backend (system.xml), prompt-writing log
handlers switched off (di.xml), and, for files under vendor/ (these and the PHP edits of
phpfile.py), the same edit as a composer-patches patch so `composer install` does not undo
it.

Edits are textual and minimal (one element, one attribute) so the diff an operator
reviews is the change and nothing else.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass

from mageguard.errors import MageguardError

ENCRYPTED_BACKEND = "Magento\\Config\\Model\\Config\\Backend\\Encrypted"
NULL_HANDLER = "Monolog\\Handler\\NullHandler"
PATCH_DIR = "patches/mageguard"


def encrypted_field(source: str, line: int) -> str | None:
    """system.xml with the <field> that starts at or contains `line` given the Encrypted
    backend and the obscure input type; None when it has one already or is not found."""
    lines = source.splitlines(keepends=True)
    start = _element_start(lines, line, "field")
    if start is None:
        return None
    end = next((i for i in range(start, len(lines)) if ">" in lines[i]), None)
    close = next((i for i in range(start, len(lines)) if "</field>" in lines[i]), None)
    if end is None or close is None:
        return None
    body = "".join(lines[start : close + 1])
    if "<backend_model>" in body:
        return None
    lines[start] = re.sub(r'\btype="(text|password)"', 'type="obscure"', lines[start])
    child = _child_indent(lines, start, close)
    lines.insert(end + 1, f"{child}<backend_model>{ENCRYPTED_BACKEND}</backend_model>\n")
    return "".join(lines)


def null_handler(source: str, line: int) -> str | None:
    """di.xml with the handler <virtualType> at `line` typed as Monolog's NullHandler
    (Magento's object manager ignores the arguments NullHandler does not take)."""
    lines = source.splitlines(keepends=True)
    start = _element_start(lines, line, "virtualType")
    if start is None:
        return None
    new = re.sub(r'\btype="[^"]*"', lambda _: f'type="{NULL_HANDLER}"', lines[start], count=1)
    if new == lines[start] or NULL_HANDLER in lines[start]:
        return None
    lines[start] = new
    return "".join(lines)


def _element_start(lines: list[str], line: int, tag: str) -> int | None:
    i = min(max(line - 1, 0), len(lines) - 1) if lines else -1
    while i >= 0:
        if f"<{tag}" in lines[i]:
            return i
        if f"</{tag}>" in lines[i] and i != line - 1:
            return None
        i -= 1
    return None


def _child_indent(lines: list[str], start: int, close: int) -> str:
    for i in range(start + 1, close):
        stripped = lines[i].lstrip()
        if stripped.startswith("<"):
            return lines[i][: len(lines[i]) - len(stripped)]
    own = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    return own + "    "


@dataclass(frozen=True)
class VendorPatch:
    package: str  # composer name: lumen-partner/module-ai-translate
    file: str  # patch path under the store root
    description: str
    text: str


def vendor_package(path: str) -> tuple[str, str] | None:
    """("vendor/name", path inside the package) for a file under vendor/."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[0] == "vendor":
        return f"{parts[1]}/{parts[2]}", "/".join(parts[3:])
    return None


def unified_patch(inner: str, old: str, new: str) -> str:
    """A patch in the package's own paths (composer-patches applies it with -p1 in the
    package directory)."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{inner}",
            tofile=f"b/{inner}",
        )
    )


def register_patches(composer_json: bytes, patches: list[VendorPatch]) -> bytes:
    """composer.json with `extra.patches` naming each patch (cweagans/composer-patches),
    and the plugin allowed; other keys and their order are kept."""
    try:
        doc = json.loads(composer_json)
    except ValueError as exc:
        raise MageguardError(f"composer.json is not valid JSON: {exc}") from None
    extra = doc.setdefault("extra", {})
    listed = extra.setdefault("patches", {})
    changed = False
    for p in patches:
        mine = listed.setdefault(p.package, {})
        if mine.get(p.description) != p.file:
            mine[p.description] = p.file
            changed = True
    allow = doc.setdefault("config", {}).setdefault("allow-plugins", {})
    if isinstance(allow, dict) and allow.get("cweagans/composer-patches") is not True:
        allow["cweagans/composer-patches"] = True
        changed = True
    require = doc.setdefault("require", {})
    if "cweagans/composer-patches" not in require:
        require["cweagans/composer-patches"] = "^1.7"
        changed = True
    if not changed:
        return composer_json
    return (json.dumps(doc, indent=4, ensure_ascii=False) + "\n").encode("utf-8")
