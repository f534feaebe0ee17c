"""The scan: discover, gate, analyse gated units, apply rules, suppress, baseline.

Cost is dominated by reading the tree once; parsing is spent only on units that mention
an AI service, and both steps are cached by content so an unchanged tree re-scans at once.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import subprocess
import time
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mageguard import __version__
from mageguard.catalog import load_catalog
from mageguard.errors import DatabaseError, InputError, MageguardError
from mageguard.scan import baseline as baselines
from mageguard.scan import findings as finding_builder
from mageguard.scan import suppress
from mageguard.scan.analyzers import deployment
from mageguard.scan.analyzers.secrets import find_keys
from mageguard.scan.cache import FileIndex, ScanCache, default_dir
from mageguard.scan.config_sources import ConfigValue, ConfigValues
from mageguard.scan.discovery import SourceFile, Tree, discover
from mageguard.scan.facts import Fact, UnitFacts
from mageguard.scan.finding import DEFAULT_FINGERPRINT_KEY, Finding
from mageguard.scan.gate import (
    AI,
    KEY,
    PARALLEL_MIN_FILES,
    SUPPRESS,
    Gate,
    GateResult,
    TokenSets,
    can_fork,
    gate_bytes,
    gate_in_parallel,
)
from mageguard.scan.result import Notice, ScanResult, ScanStats, Tenant
from mageguard.scan.ruleset import Rule, load_rules, select_rules
from mageguard.scan.wiring import (
    Wiring,
    flatten_config_defaults,
    read_crontab,
    read_di,
    read_events,
    read_layout,
)
from mageguard.scan.xmlfile import parse_xml

if TYPE_CHECKING:
    from mageguard.scan.database import DatabaseSnapshot
    from mageguard.scan.php.classindex import ClassIndex

# The analyzers (tree-sitter grammars, the PHP interpreter) are imported where they are
# used: a warm scan of an unchanged tree never needs them, and start-up is part of it.

ANALYZER_VERSION = "6"
# PHP files larger than this are generated data (domain lists, compiled containers), not
# code worth an interpreter; tree-sitter would need ~80x their size in memory.
MAX_ANALYSED_BYTES = 1024 * 1024
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ScanOptions:
    db: str | None = None
    rules: tuple[str, ...] = ()
    skip_rules: tuple[str, ...] = ()
    include_tests: bool = False
    exclude: tuple[str, ...] = ()
    cache_dir: Path | None = None
    use_cache: bool = True
    changed_since: str | None = None
    baseline: Path | None = None
    fingerprint_key: bytes = DEFAULT_FINGERPRINT_KEY
    jobs: int = 0  # processes for reading a cold tree; 0 = one per core
    progress: Progress | None = field(default=None, compare=False)


class _Files:
    """Reads files for the scan. Only the most recent ones stay in memory: a tree's
    flagged files can add up to hundreds of MB, and the few read twice (evidence lines,
    suppressions) are cheap to read again from the page cache."""

    KEEP_BYTES = 32 * 1024 * 1024

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root_str = str(root)
        self.data: OrderedDict[str, bytes] = OrderedDict()
        self.kept = 0
        self.errors: dict[str, str] = {}

    def read(self, rel: str) -> bytes | None:
        data = self.data.get(rel)
        if data is not None:
            self.data.move_to_end(rel)
            return data
        if rel in self.errors:
            return None
        try:
            with open(f"{self.root_str}/{rel}", "rb") as fh:  # noqa: PTH123 - see gate.py
                data = fh.read()
        except OSError as exc:
            self.errors[rel] = exc.strerror or str(exc)
            return None
        self.data[rel] = data
        self.kept += len(data)
        while self.kept > self.KEEP_BYTES and len(self.data) > 1:
            self.kept -= len(self.data.popitem(last=False)[1])
        return data

    def read_optional(self, rel: str) -> bytes | None:
        """A file that may legitimately be absent (a package's composer.json): absence
        is not an unreadable-file notice."""
        if not os.path.isfile(f"{self.root_str}/{rel}"):  # noqa: PTH113 - see read()
            return None
        return self.read(rel)

    def line(self, rel: str, line: int) -> str:
        data = self.read(rel)
        if data is None or line < 1:
            return ""
        lines = data.split(b"\n", line)
        return lines[line - 1].decode("utf-8", "replace") if len(lines) >= line else ""


def _is_library(unit: str, library_packages: set[str]) -> bool:
    parts = unit.split("/")
    return len(parts) == 3 and parts[0] == "vendor" and f"{parts[1]}/{parts[2]}" in library_packages


def _language(kind: str) -> str:
    return {
        "php": "php",
        "phtml": "phtml",
        "js": "js",
        "xml": "xml",
        "html": "phtml",
        "deployment-config": "deployment-config",
    }.get(kind, kind)


class Scanner:
    def __init__(self, root: Path, options: ScanOptions) -> None:
        self.root = root
        self.options = options
        self.catalog = load_catalog()
        self.rules: tuple[Rule, ...] = select_rules(load_rules(), options.rules, options.skip_rules)
        self.notices: list[Notice] = []
        self.files = _Files(root)
        cache_dir = options.cache_dir or default_dir(root)
        self.cache = ScanCache(cache_dir if options.use_cache else None)
        self.stats = {"parsed": 0, "cache_hits": 0}

    # -------------------------------------------------------------- pipeline

    def run(self) -> ScanResult:
        started = time.perf_counter()
        with _collector_paused():
            tree = discover(
                self.root, include_tests=self.options.include_tests, exclude=self.options.exclude
            )
        if not tree.is_magento:
            self.notices.append(
                Notice(
                    "not_magento",
                    f"{self.root} does not look like a Magento tree (no app/etc/"
                    "env.php, app/etc/config.php or bin/magento); scanning it as plain PHP.",
                )
            )
        for rel, reason in tree.skipped:
            self.notices.append(Notice("unreadable", f"skipped: {reason}", rel))
        with _collector_paused():
            masks, hashes = self._gate(tree)
        config = ConfigValues()
        facts: list[Fact] = []
        tenants: list[Tenant] = []

        for f in tree.files:
            if f.kind == "deployment-config":
                data = self.files.read(f.rel)
                if data is None:
                    continue
                values, secret_facts = deployment.read(data, f.rel)
                for v in values:
                    config.add(v)
                facts += secret_facts
        snapshot = self._read_database(config, tenants) if self.options.db else None

        library = {p.lower() for prov in self.catalog.providers for p in prov.composer_packages}
        by_unit: dict[str, list[SourceFile]] = {}
        for f in tree.files:
            by_unit.setdefault(f.unit, []).append(f)
        ai_units = sorted(
            u
            for u, files in by_unit.items()
            if any(masks.get(f.rel, 0) & AI for f in files) and not _is_library(u, library)
        )

        wiring = Wiring()
        xml_digest = hashlib.sha256()
        for unit in ai_units:
            for f in by_unit[unit]:
                if f.kind == "xml":
                    self._read_wiring(f, wiring, config)
                    xml_digest.update(f"{f.rel}:{hashes.get(f.rel, '')}".encode())
        context_key = hashlib.sha256(
            f"{ANALYZER_VERSION}:{__version__}:{config.digest()}:{xml_digest.hexdigest()}".encode()
        ).hexdigest()

        from mageguard.scan.php.classindex import ClassIndex

        index = ClassIndex(
            self.files.read_optional,
            ClassIndex.psr4_for_units(
                [u for u in by_unit if u.startswith("app/code/")] + ai_units,
                self.files.read_optional,
            ),
        )
        for unit in ai_units:
            unit_facts = self._unit(
                unit, by_unit[unit], masks, hashes, index, wiring, config, context_key
            )
            facts += unit_facts.facts
            for rel in unit_facts.parse_errors:
                self.notices.append(
                    Notice(
                        "parse_error",
                        "PHP does not parse cleanly; analysed what tree-sitter recovered",
                        rel,
                    )
                )
        facts += self._project_facts(tree, masks, hashes, ai_units)
        # Sections of modules that really call AI (not merely mention it in a comment).
        calling = sorted({f.unit for f in facts if f.kind == "outbound_call" and f.unit})
        # Only configuration values need an owner: a scan without --db and without AI
        # entries in env.php reads no system.xml or config.xml again.
        unowned = any(not f.unit and dict(f.detail).get("config_path") for f in facts)
        owners = self._ai_sections(by_unit, calling) if snapshot is not None or unowned else {}
        if snapshot is not None:
            facts += self._database_facts(snapshot, set(owners))
        facts = _owned_by_module(facts, owners)

        findings = finding_builder.build(
            facts, self.rules, self.catalog, wiring, self.files.line, self.options.fingerprint_key
        )
        findings, routed = self._routed(findings, snapshot)
        findings, suppressed = self._suppress(tree, masks, findings)
        baselined = 0
        if self.options.baseline is not None:
            findings, baselined = baselines.apply(findings, baselines.load(self.options.baseline))
        if self.options.changed_since:
            changed = self._changed_files(self.options.changed_since)
            findings = [f for f in findings if not f.location.is_file or f.location.path in changed]
        for rel, reason in self.files.errors.items():
            self.notices.append(Notice("unreadable", f"cannot read: {reason}", rel))
        self.cache.prune_units()
        stats = ScanStats(
            files_seen=len(tree.files),
            bytes_seen=sum(f.size for f in tree.files),
            units=len(by_unit),
            ai_units=len(ai_units),
            files_parsed=self.stats["parsed"],
            cache_hits=self.stats["cache_hits"],
            seconds=round(time.perf_counter() - started, 3),
        )
        return ScanResult(
            root=str(self.root),
            findings=tuple(findings),
            rules=self.rules,
            notices=tuple(self.notices),
            stats=stats,
            tenants=tuple(tenants),
            suppressed=suppressed,
            baselined=baselined,
            routed=tuple(routed),
            is_magento=tree.is_magento,
            tool_version=__version__,
        )

    # -------------------------------------------------------------- gate

    def _gate(self, tree: Tree) -> tuple[dict[str, int], dict[str, str]]:
        """Gate masks (only non-zero ones) and content hashes of flagged files. A file whose
        size and mtime match the cache is not read; an unchanged tree reads nothing."""
        tokens = TokenSets.from_catalog(self.catalog)
        header = f"{ANALYZER_VERSION}:{tokens.digest()}:{self.options.include_tests}"
        cached = self.cache.load_files(header)
        files = tree.files
        rels = [f.rel for f in files]
        sizes = array("q", [f.size for f in files])
        mtimes = array("q", [f.mtime_ns for f in files])
        if (
            cached is not None
            and cached.rels == rels
            and cached.sizes == sizes
            and cached.mtimes == mtimes
        ):
            flagged = {r: m for r, m in zip(rels, cached.masks, strict=True) if m}
            return flagged, dict(cached.hashes)
        lookup = {r: i for i, r in enumerate(cached.rels)} if cached is not None else {}
        new_masks = array("q", bytes(8 * len(files)))
        masks: dict[str, int] = {}
        hashes: dict[str, str] = {}
        progress = self.options.progress
        total = len(files)
        todo: list[tuple[int, str, str]] = []
        for i, f in enumerate(files):
            j = lookup.get(f.rel)
            if (
                j is not None
                and cached is not None
                and cached.sizes[j] == f.size
                and cached.mtimes[j] == f.mtime_ns
            ):
                mask = cached.masks[j]
                new_masks[i] = mask
                if mask:
                    masks[f.rel] = mask
                    if f.rel in cached.hashes:
                        hashes[f.rel] = cached.hashes[f.rel]
            else:
                todo.append((i, f.rel, f.kind))
        for i, outcome in self._gate_files(todo, tokens, total - len(todo), total):
            rel = files[i].rel
            if isinstance(outcome, str):
                self.files.errors[rel] = outcome
                sizes[i] = -1  # never cached: an unreadable file is reported every scan
                continue
            mask, digest = outcome
            new_masks[i] = mask
            if mask:
                masks[rel] = mask
                hashes[rel] = digest
        if progress is not None:
            progress("reading", total, total)
        self.cache.save_files(header, FileIndex(rels, sizes, mtimes, new_masks, hashes))
        return masks, hashes

    def _gate_files(
        self, todo: list[tuple[int, str, str]], tokens: TokenSets, done: int, total: int
    ) -> Iterator[tuple[int, GateResult | str]]:
        if not todo:
            return
        gate = Gate(tokens)
        progress = self.options.progress
        jobs = self.options.jobs or os.cpu_count() or 1
        if jobs > 1 and len(todo) >= PARALLEL_MIN_FILES and can_fork():
            report = None if progress is None else (lambda n: progress("reading", done + n, total))
            yield from gate_in_parallel(str(self.root), todo, gate, jobs, report)
            return
        for k, (i, rel, kind) in enumerate(todo):
            if progress is not None and k % 2000 == 0:
                progress("reading", done + k, total)
            data = self.files.read(rel)
            if data is None:
                yield i, self.files.errors.pop(rel, "cannot read")
                continue
            yield i, gate_bytes(data, kind, gate)

    # -------------------------------------------------------------- units

    def _read_wiring(self, f: SourceFile, wiring: Wiring, config: ConfigValues) -> None:
        name = f.rel.rsplit("/", 1)[-1]
        if (
            name not in ("di.xml", "events.xml", "crontab.xml", "config.xml")
            and "/layout/" not in f.rel
        ):
            return
        root = self._xml(f.rel)
        if root is None:
            return
        if name == "di.xml":
            read_di(wiring, root, f.rel)
        elif name == "events.xml":
            read_events(wiring, root, f.rel)
        elif name == "crontab.xml":
            read_crontab(wiring, root)
        elif name == "config.xml" and f.rel.endswith("/etc/config.xml"):
            for path, (value, line) in flatten_config_defaults(root).items():
                config.add(ConfigValue(path, value, f"{f.rel}:{line}"))
        elif "/layout/" in f.rel:
            read_layout(wiring, root, f.rel)

    def _xml(self, rel: str):  # type: ignore[no-untyped-def]
        data = self.files.read(rel)
        if data is None:
            return None
        try:
            return parse_xml(data, rel)
        except InputError as exc:
            self.notices.append(Notice("parse_error", str(exc), rel))
            return None

    def _unit(
        self,
        unit: str,
        files: list[SourceFile],
        masks: dict[str, int],
        hashes: dict[str, str],
        index: ClassIndex,
        wiring: Wiring,
        config: ConfigValues,
        context_key: str,
    ) -> UnitFacts:
        h = hashlib.sha256(f"{context_key}:{unit}".encode())
        for f in files:
            h.update(f"{f.rel}:{hashes.get(f.rel) or f'{f.size}:{f.mtime_ns}'}\n".encode())
        key = h.hexdigest()[:32]
        cached = self.cache.get_unit(key)
        if cached is not None:
            self.stats["cache_hits"] += 1
            return cached
        from mageguard.scan.analyzers import js
        from mageguard.scan.analyzers import xml as xml_facts
        from mageguard.scan.php.analyzer import PhpAnalyzer
        from mageguard.scan.php.interp import BudgetExceededError

        # A gated module is analysed whole: its entry points (observers, plugins, cron)
        # often hold no AI token themselves. The project root is not a module: only its
        # files that mention AI are entry points.
        if unit == "" or not self._is_magento_component(unit):
            php = [f for f in files if f.kind == "php" and masks.get(f.rel, 0) & AI]
        else:
            php = [f for f in files if f.kind == "php"]
        for f in php:
            if f.size > MAX_ANALYSED_BYTES:
                self.notices.append(
                    Notice(
                        "too_large",
                        f"{f.size // 1024} KB: not analysed (a "
                        "generated data file, not a module's code)",
                        f.rel,
                    )
                )
        php_rels = [f.rel for f in php if f.size <= MAX_ANALYSED_BYTES]
        templates = [f.rel for f in files if f.kind == "phtml" and unit != ""]
        analyzer = PhpAnalyzer(index, wiring, config)
        try:
            analyzer.run(php_rels, templates)
        except RecursionError:
            self.notices.append(
                Notice(
                    "analysis_error",
                    "code nests too deeply; analysis of this unit is incomplete",
                    unit,
                )
            )
        except BudgetExceededError as exc:
            self.notices.append(
                Notice(
                    "analysis_error",
                    f"analysis stopped after {exc} steps; findings in this unit may be incomplete",
                    unit,
                )
            )
        self.stats["parsed"] += len(php_rels) + len(templates)
        facts = analyzer.facts(unit, ai_unit=True)
        ai_loggers = analyzer.logger_types_with_ai_data()
        for f in files:
            name = f.rel.rsplit("/", 1)[-1]
            if f.kind == "xml" and name in ("di.xml", "db_schema.xml", "system.xml"):
                root = self._xml(f.rel)
                if root is None:
                    continue
                if name == "di.xml":
                    facts += xml_facts.log_handler_facts(wiring, f.rel, unit, True, ai_loggers)
                elif name == "db_schema.xml":
                    facts += xml_facts.stored_prompt_facts(root, f.rel, unit, True)
                else:
                    facts += xml_facts.config_field_facts(root, f.rel, unit, True)
            elif f.size > MAX_ANALYSED_BYTES:
                continue  # bundled or generated: see MAX_ANALYSED_BYTES
            elif f.kind == "js" and masks.get(f.rel, 0) & AI:
                data = self.files.read(f.rel)
                if data is not None:
                    facts += js.js_facts(data, f.rel, unit, True)
            elif f.kind in ("phtml", "html") and masks.get(f.rel, 0) & AI:
                data = self.files.read(f.rel)
                if data is not None:
                    facts += js.inline_script_facts(data, f.rel, unit, True)
        parse_errors = [p for p in index.parse_errors if p.startswith(unit + "/")]
        result = UnitFacts(facts=_attribute(facts), parse_errors=parse_errors)
        self.cache.put_unit(key, result)
        return result

    def _is_magento_component(self, unit: str) -> bool:
        """A registration.php that registers with Magento (WordPress ships a
        registration.php too), or a composer package typed magento2-*."""
        reg = self.files.read_optional(f"{unit}/registration.php")
        if reg is not None:
            return b"ComponentRegistrar" in reg
        return b'"magento2-' in (self.files.read_optional(f"{unit}/composer.json") or b"")

    def _project_facts(
        self, tree: Tree, masks: dict[str, int], hashes: dict[str, str], ai_units: list[str]
    ) -> list[Fact]:
        """Keys anywhere in the tree and AI packages in composer.lock; cached as a whole by
        the content of the files they come from (secret detection on a tree where "sk-"
        appears in thousands of files is half a warm scan)."""
        relevant = [
            f
            for f in tree.files
            if masks.get(f.rel, 0) & KEY or (f.kind == "composer-lock" and "/" not in f.rel)
        ]
        h = hashlib.sha256(f"{ANALYZER_VERSION}:{__version__}:{sorted(ai_units)}".encode())
        for f in relevant:
            h.update(f"{f.rel}:{hashes.get(f.rel) or f'{f.size}:{f.mtime_ns}'}\n".encode())
        key = "project-" + h.hexdigest()[:32]
        cached = self.cache.get_unit(key)
        if cached is not None:
            return cached.facts
        errors_before = len(self.notices)
        facts = self._find_project_facts(relevant, masks, ai_units)
        if len(self.notices) == errors_before:
            self.cache.put_unit(key, UnitFacts(facts=facts))
        return facts

    def _find_project_facts(
        self, files: list[SourceFile], masks: dict[str, int], ai_units: list[str]
    ) -> list[Fact]:
        from mageguard.scan.analyzers import composer

        facts: list[Fact] = []
        gated = set(ai_units)
        for f in files:
            mask = masks.get(f.rel, 0)
            if f.kind == "composer-lock" and "/" not in f.rel:
                data = self.files.read(f.rel)
                if data is not None:
                    try:
                        facts += composer.package_facts(data, f.rel)
                    except InputError as exc:
                        self.notices.append(Notice("parse_error", str(exc), f.rel))
            if not mask & KEY or f.kind in ("deployment-config", "composer-lock", "composer-json"):
                continue
            data = self.files.read(f.rel)
            if data is None:
                continue
            text = data.decode("utf-8", "replace")
            for m in find_keys(text, ai_unit=f.unit in gated):
                line = text.count("\n", 0, m.start) + 1
                col = m.start - (text.rfind("\n", 0, m.start) + 1) + 1
                facts.append(
                    Fact(
                        kind="secret",
                        path=f.rel,
                        line=line,
                        column=col,
                        matched=m.value,
                        language=_language(f.kind),
                        unit=f.unit,
                        provider=m.pattern.provider,
                        secret=m.value,
                        conditions=frozenset({"plaintext", "not_services_connector"}),
                        detail=(("key_type", m.pattern.id),),
                    )
                )
        return facts

    # -------------------------------------------------------------- database

    def _read_database(
        self, config: ConfigValues, tenants: list[Tenant]
    ) -> DatabaseSnapshot | None:
        """Read the live configuration before the code is analysed: its values resolve the
        hosts that modules read with scopeConfig->getValue()."""
        from mageguard.scan import database  # PyMySQL is loaded only when --db is used

        try:
            snapshot = database.read_database(self.options.db or "")
        except DatabaseError as exc:
            self.notices.append(
                Notice("database", f"{exc}; the code scan went on without the live configuration")
            )
            return None
        for v in database.config_values(snapshot):
            config.add(v)
        tenants += snapshot.tenants
        return snapshot

    def _database_facts(self, snapshot: DatabaseSnapshot, sections: set[str]) -> list[Fact]:
        from mageguard.scan import database

        return database.database_facts(snapshot, self.catalog, ai_sections=sections)

    def _ai_sections(
        self, by_unit: dict[str, list[SourceFile]], ai_units: list[str]
    ) -> dict[str, str]:
        """Config sections (`lumen_ai` of lumen_ai/openai/endpoint) that AI modules declare
        in system.xml or config.xml, and the module that declares each: their toggles and
        keys in the database are AI ones, and that module's."""
        sections: dict[str, str] = {}
        for unit in ai_units:
            for f in by_unit[unit]:
                name = f.rel.rsplit("/", 1)[-1]
                if f.kind != "xml" or name not in ("system.xml", "config.xml"):
                    continue
                root = self._xml(f.rel)
                if root is None:
                    continue
                if name == "system.xml":
                    found = {s.attrs["id"] for s in root.iter("section") if "id" in s.attrs}
                else:
                    found = {p.split("/", 1)[0] for p in flatten_config_defaults(root)}
                for section in sorted(found):
                    sections.setdefault(section, unit)
        return sections

    # -------------------------------------------------------------- filters

    def _routed(
        self, findings: list[Finding], snapshot: DatabaseSnapshot | None
    ) -> tuple[list[Finding], list[Finding]]:
        """Calls that mageguard's own connector, installed and enabled here, already sends
        to the gateway are shut: they are kept apart, not reported (`mageguard fix` installs
        it; switching it off brings them back)."""
        from mageguard.fix import connector

        disabled = snapshot is not None and any(
            r.path == connector.ENABLED_PATH and (r.value or "").strip() == "0"
            for r in snapshot.rows
        )
        routes = connector.installed_routes(self.files.read_optional, disabled)
        kept: list[Finding] = []
        routed: list[Finding] = []
        for f in findings:
            (routed if routes and connector.routes_call(f, routes) else kept).append(f)
        return kept, routed

    def _suppress(self, tree: Tree, masks: dict[str, int], findings: list):  # type: ignore[no-untyped-def,type-arg]
        markers: list[suppress.Suppression] = []
        for f in tree.files:
            if masks.get(f.rel, 0) & SUPPRESS:
                data = self.files.read(f.rel)
                if data is not None:
                    markers += suppress.parse(f.rel, data.decode("utf-8", "replace"))
        known = {r.id for r in self.rules}
        kept, count, unused = suppress.apply(findings, markers)
        for s in unused:
            unknown = [r for r in s.rules if r not in known]
            why = f"unknown rule {', '.join(unknown)}" if unknown else "no finding to suppress"
            self.notices.append(
                Notice(
                    "unused_suppression",
                    f"mageguard:ignore {','.join(s.rules)}: {why}",
                    s.path,
                    s.line,
                )
            )
        for s in markers:
            if not s.reason:
                self.notices.append(
                    Notice(
                        "suppression_without_reason",
                        f"mageguard:ignore {','.join(s.rules)} gives no reason",
                        s.path,
                        s.line,
                    )
                )
        return kept, count

    def _changed_files(self, rev: str) -> set[str]:
        inside = subprocess.run(
            ["git", "-C", str(self.root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if inside.returncode != 0:
            raise InputError(
                f"--changed-since {rev}: git failed: {self.root} is not inside a git work tree"
            )
        try:
            diff = subprocess.run(
                ["git", "-C", str(self.root), "diff", "--name-only", "--relative", rev, "--"],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            untracked = subprocess.run(
                ["git", "-C", str(self.root), "ls-files", "--others", "--exclude-standard"],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            stderr = (getattr(exc, "stderr", "") or str(exc)).strip().splitlines()
            fatal = [line for line in stderr if line.startswith(("fatal:", "error:"))]
            reason = (fatal or stderr or ["unknown error"])[0]
            raise InputError(f"--changed-since {rev}: git failed: {reason}") from None
        return {
            line.strip() for line in (diff.stdout + untracked.stdout).splitlines() if line.strip()
        }


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Walking and gating allocate ~10 objects per file and create no cycles; the cyclic
    collector would spend a fifth of a warm scan scanning them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _owned_by_module(facts: list[Fact], owners: dict[str, str]) -> list[Fact]:
    """A configuration value (a core_config_data row, an env.php `system` entry) belongs
    to the module that declares its section: the finding names that module, not a bare
    config path, so a report lists the module's data flows in one place."""
    if not owners:
        return facts
    out = []
    for f in facts:
        path = dict(f.detail).get("config_path", "") if not f.unit else ""
        if path.startswith("system/"):  # env.php: system/<scope>[/<code>]/<path>
            parts = path.split("/")
            path = "/".join(parts[2:] if parts[1] == "default" else parts[3:])
        owner = owners.get(path.split("/", 1)[0]) if path else None
        out.append(replace(f, unit=owner) if owner else f)
    return out


def _attribute(facts: list[Fact]) -> list[Fact]:
    """Give a unit's findings that name no service (log files, prompt tables, exposed
    keys) the provider the unit talks to, and log and prompt stores the data categories
    that unit logs or sends: an auditor needs both to judge them."""
    calls = [f for f in facts if f.kind == "outbound_call" and f.provider]
    providers = Counter(f.provider for f in calls).most_common()
    main = providers[0][0] if providers else None
    sent: frozenset[str] = (
        frozenset().union(*(f.categories for f in calls)) if calls else frozenset()
    )
    logged: frozenset[str] = (
        frozenset().union(*(f.categories for f in facts if f.kind == "log_write"))
        if facts
        else frozenset()
    )
    out = []
    for f in facts:
        changes: dict[str, object] = {}
        if f.provider is None and main is not None and f.kind != "data_write":
            changes["provider"] = main
        if f.kind == "log_handler" and "ai_data" in f.conditions and not f.categories:
            changes["categories"] = logged or sent
        elif f.kind == "stored_prompt" and not f.categories:
            changes["categories"] = sent
        out.append(replace(f, **changes) if changes else f)  # type: ignore[arg-type]
    return out


def scan(root: Path, options: ScanOptions | None = None) -> ScanResult:
    """Scan a Magento tree. Raises MageguardError subclasses for unusable input; problems
    with single files become Notices and the scan goes on."""
    return Scanner(root, options or ScanOptions()).run()


__all__ = ["MageguardError", "ScanOptions", "scan"]
