#!/usr/bin/env python3
"""Run mageguard and Semgrep side by side over the same PHP trees, and report.

For each --tree: mageguard cold (a fresh, empty cache dir), mageguard warm (the same
command again over the unchanged tree, same cache), then Semgrep with the committed
equivalent rules (bench/semgrep/rules.yaml) over the same files. Each run is measured for
wall time, CPU time and peak memory of its whole process tree; the findings are checked
against the tree's PLANTED.json (written by gen_magento_tree.py) where there is one.
A Markdown section is appended to bench/RESULTS.md (see --results) and the raw numbers
are kept in bench/work/results/.

    bench/run_scan_bench.py --tree bench/work/magento-30k --tree bench/work/debian-php
    bench/run_scan_bench.py --tree bench/work/magento-30k --semgrep-subset 40
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / "work"
DEFAULT_MAGEGUARD = REPO / ".venv" / "bin" / "mageguard"
DEFAULT_SEMGREP = WORK / ".venv-semgrep" / "bin" / "semgrep"
DEFAULT_RULES = BENCH / "semgrep" / "rules.yaml"
DEFAULT_RESULTS = BENCH / "RESULTS.md"
DEFAULT_TREES = (WORK / "magento-30k", WORK / "debian-php")

# What the issue asks of mageguard.
TARGET_COLD_SPEEDUP = 50.0
TARGET_WARM_SECONDS = 1.0
TARGET_PEAK_MB = 500.0

# Seconds between samples of the process tree's memory: often while a run is short, less
# often once it is long (a long run's sampling would cost a few % of a core).
SAMPLE_INTERVAL = 0.02
SAMPLE_INTERVAL_LONG = 0.1
SAMPLE_LONG_AFTER = 5.0
RESIDENCY_SAMPLE = 2000  # files whose page-cache residency is checked


# ---------------------------------------------------------------------------------------
# Measuring one command


@dataclass
class Run:
    tool: str  # "mageguard (cold)", "mageguard (warm)", "semgrep"
    command: list[str]
    cwd: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_mb: float = 0.0  # max over time of the summed RSS of the process tree
    max_single_mb: float = 0.0  # ru_maxrss: the largest single process
    exit_code: int | None = None
    timed_out: bool = False
    ok: bool = False
    error: str = ""
    findings: list[tuple[str, int]] = field(default_factory=list)
    files_seen: int | None = None  # files the tool says it scanned, when it says
    files_seen_kind: str = "PHP"  # "PHP" or "all"
    tool_stats: dict[str, Any] = field(default_factory=dict)  # the tool's own counters
    extrapolated_wall_s: float | None = None
    note: str = ""


def _children(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def tree_rss(pid: int) -> int:
    """Summed RSS of a process and all its descendants (shared pages count twice, so
    this errs high, as /usr/bin/time over a pipeline would)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_bytes(p)
        todo += _children(p)
    return total


def measure(run: Run, *, timeout: float | None, env: dict[str, str] | None = None) -> Run:
    """Run `run.command`, filling in wall/CPU time, peak memory and the exit code. On a
    timeout the command's whole process group (its own session) is killed."""
    log_dir = Path(tempfile.mkdtemp(prefix="bench-run-", dir=WORK if WORK.exists() else None))
    try:
        err_path = log_dir / "stderr"
        peak = 0
        stop = threading.Event()
        with (log_dir / "stdout").open("wb") as out, err_path.open("wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                run.command,
                cwd=run.cwd,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )

            def sample() -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, tree_rss(proc.pid))
                    long = time.perf_counter() - t0 > SAMPLE_LONG_AFTER
                    stop.wait(SAMPLE_INTERVAL_LONG if long else SAMPLE_INTERVAL)

            def kill() -> None:
                run.timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            timer = threading.Timer(timeout, kill) if timeout else None
            if timer:
                timer.start()
            _, status, usage = os.wait4(proc.pid, 0)
            run.wall_s = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            if timer:
                timer.cancel()
            stop.set()
            sampler.join()
        run.exit_code = proc.returncode
        run.cpu_s = usage.ru_utime + usage.ru_stime
        run.max_single_mb = usage.ru_maxrss / 1024  # KiB on Linux
        run.peak_mb = max(peak / 2**20, run.max_single_mb)
        if run.exit_code != 0:
            tail = err_path.read_text(errors="replace").strip().splitlines()[-15:]
            run.error = "\n".join(tail)
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    return run


# ---------------------------------------------------------------------------------------
# Trees


@dataclass
class TreeStats:
    php_files: int = 0
    php_bytes: int = 0
    files: int = 0
    bytes: int = 0


def walk_files(root: Path, skip: Iterable[str] = (".mageguard-cache",)) -> Iterator[Path]:
    skipped = set(skip)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skipped)
        for n in sorted(filenames):
            yield Path(dirpath, n)


def tree_stats(paths: Iterable[Path]) -> tuple[TreeStats, list[Path]]:
    st = TreeStats()
    php: list[Path] = []
    for p in paths:
        try:
            size = p.lstat().st_size
        except OSError:
            continue
        st.files += 1
        st.bytes += size
        if p.name.endswith(".php"):
            st.php_files += 1
            st.php_bytes += size
            php.append(p)
    return st, php


def page_cache_residency(paths: list[Path]) -> float | None:
    """Share of the files' pages in the page cache (mincore(2) on a read-only mapping)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        c_mmap, c_munmap, c_mincore = libc.mmap, libc.munmap, libc.mincore
    except (OSError, AttributeError):
        return None
    c_mmap.restype = ctypes.c_void_p
    c_mmap.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    ]
    c_munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    c_mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]
    prot_read, map_shared = 1, 1
    map_failed = ctypes.c_void_p(-1).value
    page = os.sysconf("SC_PAGE_SIZE")
    resident = total = 0
    for p in paths:
        try:
            fd = os.open(p, os.O_RDONLY)
        except OSError:
            continue
        try:
            size = os.fstat(fd).st_size
            if size == 0:
                continue
            addr = c_mmap(None, size, prot_read, map_shared, fd, 0)
            if addr in (None, map_failed):
                continue
            n = (size + page - 1) // page
            vec = (ctypes.c_ubyte * n)()
            if c_mincore(addr, size, vec) == 0:
                resident += sum(b & 1 for b in vec)
                total += n
            c_munmap(addr, size)
        finally:
            os.close(fd)
    return resident / total if total else None


def every_nth(items: list[Path], n: int) -> list[Path]:
    step = max(1, len(items) // n)
    return items[::step][:n]


def discover_units(root: Path) -> list[Path]:
    """Modules / packages of a tree, in path order: what --semgrep-subset counts."""
    units: list[Path] = []
    for pattern in ("app/code/*/*", "app/design/*/*/*", "lib/internal/*/*", "vendor/*/*"):
        units += [p for p in root.glob(pattern) if p.is_dir()]
    if units:
        return sorted(units)
    base = root
    while True:  # descend through single folders (usr/share/php/...)
        entries = list(base.iterdir())
        dirs = [p for p in entries if p.is_dir() and not p.is_symlink()]
        if len(dirs) == 1 and len(entries) == 1:
            base = dirs[0]
            continue
        return sorted(dirs)


def subset_targets(root: Path, n: int, must: set[str]) -> tuple[list[str], list[Path]]:
    """Targets (relative to root) for a subset run: the first n units in path order, the
    units holding planted items, and the tree's loose configuration (root files, app/etc,
    pub). Returns (targets, the files under them)."""
    units = discover_units(root)
    chosen = units[:n]
    for u in units[n:]:
        rel = u.relative_to(root).as_posix() + "/"
        if any(m.startswith(rel) for m in must):
            chosen.append(u)
    targets = [u.relative_to(root).as_posix() for u in chosen]
    loose = [p for p in root.iterdir() if p.is_file() and p.name != ".semgrepignore"]
    targets += [p.name for p in sorted(loose)]
    targets += [d for d in ("app/etc", "pub") if (root / d).is_dir()]
    files: list[Path] = list(loose)
    for t in targets:
        if (root / t).is_dir():
            files += list(walk_files(root / t))
    return targets, files


# ---------------------------------------------------------------------------------------
# Findings


def semgrep_findings(doc: dict[str, Any]) -> tuple[list[tuple[str, int]], int]:
    found = [(norm_path(r["path"]), int(r["start"]["line"])) for r in doc.get("results", [])]
    scanned = doc.get("paths", {}).get("scanned", [])
    return found, sum(1 for p in scanned if str(p).endswith(".php"))


def norm_path(path: str, root: Path | None = None) -> str:
    p = path.replace("\\", "/")
    if root is not None and Path(p).is_absolute():
        with contextlib.suppress(ValueError):
            p = Path(p).resolve().relative_to(root.resolve()).as_posix()
    while p.startswith("./"):
        p = p[2:]
    return p


def _first(d: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return None


def mageguard_findings(doc: Any, root: Path) -> tuple[list[tuple[str, int]], dict[str, Any]]:
    """(path, line) of each finding in mageguard's JSON output, and its `stats` block.
    The format is read loosely: a list of findings, or an object with `findings` (or
    `results`); each with a `location` {path, line} or flat path/file and line fields."""
    if isinstance(doc, list):
        items: Any = doc
        meta: dict[str, Any] = {}
    elif isinstance(doc, dict):
        items = _first(doc, "findings", "results") or []
        meta = doc
    else:
        return [], {}
    found: list[tuple[str, int]] = []
    for f in items:
        if not isinstance(f, dict):
            continue
        location = f.get("location")
        loc: dict[str, Any] = location if isinstance(location, dict) else f
        path = _first(loc, "path", "file", "uri")
        if path is None:
            continue
        line = _first(loc, "line", "start_line", "startLine")
        if line is None and isinstance(loc.get("start"), dict):
            line = loc["start"].get("line")
        found.append((norm_path(str(path), root), int(line or 1)))
    stats = meta.get("stats")
    return found, stats if isinstance(stats, dict) else {}


def files_seen(stats: dict[str, Any]) -> tuple[int | None, str]:
    """How many files a tool's own counters say it looked at: PHP files, or all files."""
    for key, kind in (("php_files", "PHP"), ("files_seen", "all"), ("files_scanned", "all")):
        if isinstance(stats.get(key), int):
            return int(stats[key]), kind
    return None, "PHP"


@dataclass
class Recall:
    found: list[str]
    file_only: list[str]  # a finding in the item's file, not on its lines
    missed: list[str]
    outside: int  # findings outside the planted modules and files

    @property
    def label(self) -> str:
        total = len(self.found) + len(self.file_only) + len(self.missed)
        return f"{len(self.found)}/{total}"


def recall(
    findings: list[tuple[str, int]], planted: dict[str, Any], only: set[str] | None = None
) -> Recall:
    items = [it for it in planted["items"] if only is None or it["path"] in only]
    by_path: dict[str, list[int]] = {}
    for path, line in findings:
        by_path.setdefault(path, []).append(line)
    r = Recall([], [], [], 0)
    for it in items:
        lines = by_path.get(it["path"], [])
        if any(it["line_start"] <= n <= it["line_end"] for n in lines):
            r.found.append(it["id"])
        elif lines:
            r.file_only.append(it["id"])
        else:
            r.missed.append(it["id"])
    places = [m.rstrip("/") + "/" for m in planted.get("modules", [])]
    files = {it["path"] for it in planted["items"]}
    r.outside = sum(
        1 for p, _ in findings if p not in files and not any(p.startswith(m) for m in places)
    )
    return r


# ---------------------------------------------------------------------------------------
# Tools


def tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=120, check=False, env=semgrep_env()
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (out.stdout or out.stderr).strip().splitlines()
    if out.returncode != 0 or not text:
        return "unknown"
    version = text[-1].strip()
    name = Path(cmd[0]).name + " "
    return version[len(name) :] if version.startswith(name) else version


def semgrep_env() -> dict[str, str]:
    # Without network, the version check waits minutes for semgrep.dev: keep it off.
    return {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}


def semgrep_ignore_flag(semgrep: Path) -> str | None:
    """Semgrep skips vendor/, tests/ ... by its default .semgrepignore. 1.185 has
    --x-ignore-semgrepignore-files to turn that off; older ones need an empty file."""
    try:
        help_text = subprocess.run(
            [str(semgrep), "scan", "--help=plain"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=semgrep_env(),
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        help_text = ""
    return (
        "--x-ignore-semgrepignore-files" if "--x-ignore-semgrepignore-files" in help_text else None
    )


def mageguard_extra_args(mageguard: Path, user_args: list[str]) -> list[str]:
    """Options that make mageguard see the same files as Semgrep: tests included (it
    skips Test/ and tests/ by default), and no progress bar."""
    try:
        help_text = subprocess.run(
            [str(mageguard), "scan", "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        help_text = ""
    extra = [a for a in ("--include-tests", "--quiet") if a in help_text and a not in user_args]
    return extra + user_args


def semgrep_startup(semgrep: Path, rules: Path, ignore_flag: str | None, jobs: int) -> float:
    """Wall time of Semgrep with the rules over an empty folder (fixed cost of a run)."""
    empty = Path(tempfile.mkdtemp(prefix="semgrep-empty-", dir=WORK))
    try:
        cmd = semgrep_command(semgrep, rules, empty / "out.json", jobs, ignore_flag, ["."])
        return measure(
            Run("semgrep (empty)", cmd, str(empty)), timeout=600, env=semgrep_env()
        ).wall_s
    finally:
        shutil.rmtree(empty, ignore_errors=True)


def semgrep_command(
    semgrep: Path, rules: Path, out: Path, jobs: int, ignore_flag: str | None, targets: list[str]
) -> list[str]:
    cmd = [
        str(semgrep),
        "scan",
        "--config",
        str(rules),
        "--metrics=off",
        "--no-git-ignore",
        "--json",
        "--output",
        str(out),
        "--jobs",
        str(jobs),
        "--timeout",
        "0",
        "--max-target-bytes",
        "0",
        "--disable-version-check",
        "--quiet",
    ]
    if ignore_flag:
        cmd.append(ignore_flag)
    return cmd + targets


# ---------------------------------------------------------------------------------------
# Report


def machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kb / 2**20:.1f} GiB"
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def fmt_s(x: float) -> str:
    return f"{x:,.2f}" if x < 100 else f"{x:,.0f}"


@dataclass
class TreeResult:
    tree: str
    stats: TreeStats
    residency: float | None
    residency_sample: int
    runs: list[Run] = field(default_factory=list)
    semgrep_stats: TreeStats | None = None  # the subset, when Semgrep ran on one
    semgrep_note: str = ""
    recalls: dict[str, Recall] = field(default_factory=dict)
    planted: bool = False


def ratio_text(semgrep: Run | None, run: Run) -> str:
    if semgrep is None or (not semgrep.ok and not semgrep.timed_out):
        return "n/a"
    if run.tool == "semgrep":
        return "1x (extrapolated)" if semgrep.extrapolated_wall_s else "1x"
    if not run.ok or run.wall_s <= 0:
        return "n/a"
    base = semgrep.extrapolated_wall_s or semgrep.wall_s
    text = f"{base / run.wall_s:,.0f}x" if base / run.wall_s >= 10 else f"{base / run.wall_s:.1f}x"
    if semgrep.timed_out:
        text = ">= " + text
    if semgrep.extrapolated_wall_s:
        text += " (vs extrapolated)"
    return text


def markdown(results: list[TreeResult], meta: dict[str, Any]) -> str:
    m = meta["machine"]
    lines = [
        f"## {meta['date']}",
        "",
        f"- Command: `{meta['command']}`",
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} RAM, "
        f"Linux {m['kernel']}, Python {m['python']}",
        f"- Versions: mageguard {meta['mageguard_version']}; semgrep {meta['semgrep_version']}"
        + (
            f" with bench/semgrep/rules.yaml ({meta['rule_count']} rules)"
            if meta["semgrep_version"] != "not run"
            else ""
        ),
        f"- mageguard command: `{meta['mageguard_command']}`",
        f"- Semgrep command: `{meta['semgrep_command']}`",
        "- wall/CPU s: the whole process tree; peak MB: max over time of the summed RSS of "
        "the process tree, sampled every 20 ms (100 ms after the first 5 s), and at least "
        "the largest single process's ru_maxrss.",
        "",
        "| tool | tree | PHP files | PHP MB | wall s | CPU s | peak MB | ratio to Semgrep "
        "| planted found |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    notes: list[str] = []
    for tr in results:
        sg = next((r for r in tr.runs if r.tool == "semgrep"), None)
        for run in tr.runs:
            st = tr.semgrep_stats if run.tool == "semgrep" and tr.semgrep_stats else tr.stats
            if run.ok:
                wall = fmt_s(run.wall_s)
                if run.extrapolated_wall_s:
                    wall = (
                        f"{fmt_s(run.wall_s)} (full tree extrapolated: "
                        f"{fmt_s(run.extrapolated_wall_s)})"
                    )
            elif run.timed_out:
                wall = f"> {fmt_s(run.wall_s)} (timed out)"
            else:
                wall = f"failed (exit {run.exit_code})"
            rc = tr.recalls.get(run.tool)
            lines.append(
                f"| {run.tool} | {tr.tree} | {st.php_files:,} | {st.php_bytes / 1e6:,.1f} | "
                f"{wall} | {fmt_s(run.cpu_s)} | {run.peak_mb:,.0f} | {ratio_text(sg, run)} | "
                f"{rc.label if rc else 'n/a'} |"
            )
        notes.append(
            ("\n" if notes else "") + f"**{tr.tree}**: {tr.stats.php_files:,} PHP files "
            f"({tr.stats.php_bytes / 1e6:,.1f} MB), {tr.stats.files:,} files "
            f"({tr.stats.bytes / 1e6:,.1f} MB) in all."
        )
        if tr.residency is not None:
            state = (
                "warm" if tr.residency > 0.9 else "cold" if tr.residency < 0.1 else "partly warm"
            )
            notes.append(
                f"- Page cache before the cold run: {tr.residency:.0%} of the pages of "
                f"{tr.residency_sample:,} sampled PHP files resident ({state})."
            )
        if tr.semgrep_note:
            notes.append(f"- {tr.semgrep_note}")
        for run in tr.runs:
            if run.files_seen is not None:
                st = tr.semgrep_stats if run.tool == "semgrep" and tr.semgrep_stats else tr.stats
                if run.files_seen_kind == "PHP":
                    notes.append(
                        f"- {run.tool} scanned {run.files_seen:,} of {st.php_files:,} PHP files."
                    )
                else:
                    notes.append(
                        f"- {run.tool} saw {run.files_seen:,} of the tree's {st.files:,} files "
                        "(all kinds)."
                    )
            if run.tool_stats:
                counters = ", ".join(
                    f"{k} {v}" for k, v in run.tool_stats.items() if isinstance(v, int | float)
                )
                notes.append(f"- {run.tool}, its own counters: {counters}.")
            if run.note:
                notes.append(f"- {run.tool}: {run.note}")
            if not run.ok and not run.timed_out and run.error:
                notes.append(f"- {run.tool} failed: `{run.error.splitlines()[-1][:300]}`")
        singles = [f"{r.tool} {r.max_single_mb:,.0f} MB" for r in tr.runs if r.max_single_mb]
        if singles:
            notes.append("- Largest single process (ru_maxrss): " + ", ".join(singles) + ".")
        for tool, rc in tr.recalls.items():
            parts = [f"{len(rc.found)} found"]
            if rc.file_only:
                parts.append("in the right file only: " + ", ".join(rc.file_only))
            if rc.missed:
                parts.append("missed: " + ", ".join(rc.missed))
            parts.append(f"{rc.outside} findings outside the planted modules")
            notes.append(f"- Planted, {tool}: " + "; ".join(parts) + ".")
        cold = next((r for r in tr.runs if r.tool == "mageguard (cold)" and r.ok), None)
        warm = next((r for r in tr.runs if r.tool == "mageguard (warm)" and r.ok), None)
        if cold or warm:
            checks = []
            if cold and sg and (sg.ok or sg.timed_out):
                speed = (sg.extrapolated_wall_s or sg.wall_s) / cold.wall_s
                verdict = (
                    "PASS"
                    if speed >= TARGET_COLD_SPEEDUP
                    else ("not shown (Semgrep timed out)" if sg.timed_out else "FAIL")
                )
                checks.append(
                    f"cold >= {TARGET_COLD_SPEEDUP:.0f}x faster than Semgrep: "
                    f"{verdict} ({speed:,.0f}x)"
                )
            if warm:
                checks.append(
                    f"warm < {TARGET_WARM_SECONDS:.0f} s: "
                    f"{'PASS' if warm.wall_s < TARGET_WARM_SECONDS else 'FAIL'} "
                    f"({warm.wall_s:.2f} s)"
                )
            peak = max(r.peak_mb for r in (cold, warm) if r)
            checks.append(
                f"peak < {TARGET_PEAK_MB:.0f} MB: "
                f"{'PASS' if peak < TARGET_PEAK_MB else 'FAIL'} ({peak:,.0f} MB)"
            )
            scope = (
                "Targets" if tr.planted else "Targets (set for a Magento tree; informational here)"
            )
            notes.append(f"- {scope}: " + "; ".join(checks) + ".")
    return "\n".join([*lines, "", *notes, "", ""])


RESULTS_HEADER = """# Scan benchmark results

Appended by `bench/run_scan_bench.py` (see bench/README.md): mageguard cold and warm and
Semgrep with the equivalent rules in bench/semgrep/rules.yaml, on the same trees and the
same machine, in one run. Numbers are noisy on a shared 2-core machine; ratios hold better
than absolutes.

"""


# ---------------------------------------------------------------------------------------


def run_tree(
    tree: Path,
    args: argparse.Namespace,
    ignore_flag: str | None,
    stamp: str,
    semgrep_cmd_shown: list[str],
) -> TreeResult:
    root = tree.resolve()
    name = tree.name
    print(f"== {name}: counting files ...", file=sys.stderr)
    all_files = list(walk_files(root))
    stats, php = tree_stats(all_files)
    sample = every_nth(php, RESIDENCY_SAMPLE)
    planted_path = root / "PLANTED.json"
    planted = json.loads(planted_path.read_text()) if planted_path.is_file() else None
    if args.prewarm:
        for p in all_files:
            with contextlib.suppress(OSError):
                p.read_bytes()
    residency = page_cache_residency(sample)
    tr = TreeResult(name, stats, residency, len(sample), planted=planted is not None)
    out_dir = WORK / "results" / stamp / name
    out_dir.mkdir(parents=True, exist_ok=True)

    if not args.skip_mageguard:
        mg = Path(args.mageguard)
        if not os.access(mg, os.X_OK):
            print(
                f"   mageguard not found at {mg} (scripts/bootstrap installs it); skipped",
                file=sys.stderr,
            )
        else:
            extra = mageguard_extra_args(mg, args.mageguard_arg)
            cache = Path(tempfile.mkdtemp(prefix=f"mageguard-cache-{name}-", dir=WORK))
            shutil.rmtree(cache)  # a fresh, non-existent cache dir: the cold run makes it
            try:
                for i in range(1 + args.warm_runs):
                    label = "mageguard (cold)" if i == 0 else "mageguard (warm)"
                    out = out_dir / f"mageguard-{i}.json"
                    cmd = [
                        str(mg),
                        "scan",
                        str(root),
                        "--format",
                        "json",
                        "--output",
                        str(out),
                        "--cache-dir",
                        str(cache),
                        *extra,
                    ]
                    print(f"   {label} ...", file=sys.stderr)
                    run = measure(Run(label, cmd, str(root)), timeout=args.mageguard_timeout)
                    run.ok = run.exit_code in (0, 1) and out.is_file() and not run.timed_out
                    if run.ok:
                        try:
                            run.findings, run.tool_stats = mageguard_findings(
                                json.loads(out.read_text()), root
                            )
                            run.files_seen, run.files_seen_kind = files_seen(run.tool_stats)
                        except (ValueError, TypeError, KeyError) as e:
                            run.ok, run.error = False, f"unreadable JSON output: {e}"
                    print(
                        f"   {label}: {run.wall_s:.2f} s, {run.peak_mb:.0f} MB, "
                        f"exit {run.exit_code}",
                        file=sys.stderr,
                    )
                    tr.runs.append(run)
            finally:
                shutil.rmtree(cache, ignore_errors=True)
            warm = [r for r in tr.runs if r.tool == "mageguard (warm)"]
            if len(warm) > 1:  # keep the median warm run
                ok = sorted((r for r in warm if r.ok), key=lambda r: r.wall_s)
                keep = ok[len(ok) // 2] if ok else warm[0]
                keep.note = (
                    f"median of {len(warm)} warm runs "
                    f"({', '.join(f'{r.wall_s:.2f}' for r in warm)} s)"
                )
                tr.runs = [r for r in tr.runs if r.tool != "mageguard (warm)" or r is keep]

    if not args.skip_semgrep:
        sg_bin = Path(args.semgrep)
        if not os.access(sg_bin, os.X_OK):
            print(
                f"   semgrep not found at {sg_bin} (bench/setup_semgrep.sh installs it); skipped",
                file=sys.stderr,
            )
        else:
            made_ignore = False
            if ignore_flag is None and not (root / ".semgrepignore").exists():
                (root / ".semgrepignore").write_text("")  # empty: no default exclusions
                made_ignore = True
            only: set[str] | None = None
            if args.semgrep_subset:
                must = {it["path"] for it in planted["items"]} if planted else set()
                targets, files = subset_targets(root, args.semgrep_subset, must)
                tr.semgrep_stats, _ = tree_stats(files)
                units = len(discover_units(root))
                tr.semgrep_note = (
                    f"Semgrep ran on a subset: the first {args.semgrep_subset} of {units} "
                    f"modules/packages in path order plus those holding planted items and the "
                    f"tree's loose config files ({tr.semgrep_stats.php_files:,} PHP files, "
                    f"{tr.semgrep_stats.php_bytes / tr.stats.php_bytes:.1%} of the PHP bytes); "
                    f"its full-tree time is EXTRAPOLATED linearly by PHP bytes. Its peak memory "
                    f"is the subset's."
                )
                rel_files = {p.relative_to(root).as_posix() for p in files}
                only = {it["path"] for it in planted["items"]} & rel_files if planted else None
            else:
                targets = ["."]
            out = out_dir / "semgrep.json"
            cmd = semgrep_command(
                sg_bin, Path(args.rules).resolve(), out, args.semgrep_jobs, ignore_flag, targets
            )
            if not semgrep_cmd_shown:
                shown = placeholders(cmd[: -len(targets)])
                shown += targets if len(targets) < 4 else ["<subset targets>"]
                semgrep_cmd_shown += shown
            print(f"   semgrep on {len(targets)} target(s) ...", file=sys.stderr)
            try:
                run = measure(
                    Run("semgrep", cmd, str(root)), timeout=args.semgrep_timeout, env=semgrep_env()
                )
            finally:
                if made_ignore:
                    (root / ".semgrepignore").unlink(missing_ok=True)
            run.ok = run.exit_code in (0, 1) and out.is_file() and not run.timed_out
            if run.ok:
                run.findings, run.files_seen = semgrep_findings(json.loads(out.read_text()))
                if tr.semgrep_stats and tr.semgrep_stats.php_bytes:
                    # Startup (rule parsing, target discovery) does not grow with the tree:
                    # time Semgrep on an empty folder, and scale only the rest.
                    startup = semgrep_startup(
                        sg_bin, Path(args.rules).resolve(), ignore_flag, args.semgrep_jobs
                    )
                    scale = tr.stats.php_bytes / tr.semgrep_stats.php_bytes
                    run.extrapolated_wall_s = startup + max(0.0, run.wall_s - startup) * scale
                    tr.semgrep_note += (
                        f" Semgrep's startup on an empty folder, {startup:.1f} s, "
                        f"is not scaled: full = {startup:.1f} + "
                        f"({run.wall_s:.1f} - {startup:.1f}) x {scale:.1f}."
                    )
            if made_ignore:
                run.note = "an empty .semgrepignore was put in the tree for the run"
            print(
                f"   semgrep: {run.wall_s:.1f} s, {run.peak_mb:.0f} MB, exit {run.exit_code}"
                f"{' (timed out)' if run.timed_out else ''}",
                file=sys.stderr,
            )
            tr.runs.append(run)
            if planted and run.ok:
                tr.recalls["semgrep"] = recall(run.findings, planted, only)

    if planted:
        for run in tr.runs:
            if run.tool.startswith("mageguard") and run.ok:
                tr.recalls[run.tool] = recall(run.findings, planted)
    return tr


def placeholders(cmd: list[str]) -> list[str]:
    """The command as shown in the report: repo-relative, OUT.json and CACHE_DIR."""
    shown = [c.replace(str(REPO) + "/", "") for c in cmd]
    for flag, value in (("--output", "OUT.json"), ("--cache-dir", "CACHE_DIR")):
        if flag in shown[:-1]:
            shown[shown.index(flag) + 1] = value
    return shown


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--tree",
        action="append",
        type=Path,
        default=[],
        help="tree to scan (repeatable; default: bench/work/magento-30k and "
        "bench/work/debian-php, those that exist)",
    )
    ap.add_argument("--skip-semgrep", action="store_true")
    ap.add_argument("--skip-mageguard", action="store_true")
    ap.add_argument(
        "--semgrep-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="kill Semgrep after this long (reported as a lower bound)",
    )
    ap.add_argument(
        "--semgrep-subset",
        type=int,
        default=0,
        metavar="N",
        help="run Semgrep on the first N modules/packages only (plus the planted "
        "ones) and extrapolate its full-tree time by PHP bytes",
    )
    ap.add_argument("--semgrep-jobs", type=int, default=2)
    ap.add_argument("--mageguard-timeout", type=float, default=1800, metavar="SECONDS")
    ap.add_argument(
        "--warm-runs",
        type=int,
        default=1,
        help="warm runs after the cold one (the median is reported)",
    )
    ap.add_argument(
        "--prewarm",
        action="store_true",
        help="read every file first, so the cold run starts with a warm page cache",
    )
    ap.add_argument("--mageguard", default=str(DEFAULT_MAGEGUARD))
    ap.add_argument(
        "--mageguard-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for `mageguard scan` (repeatable)",
    )
    ap.add_argument("--semgrep", default=str(DEFAULT_SEMGREP))
    ap.add_argument("--rules", default=str(DEFAULT_RULES))
    ap.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        help="Markdown file to append to (default bench/RESULTS.md)",
    )
    ap.add_argument("--no-results", action="store_true", help="print the section only")
    args = ap.parse_args(argv)
    if args.warm_runs < 1:
        ap.error("--warm-runs must be at least 1")
    # The tools run with the tree as their working directory.
    args.mageguard = str(Path(args.mageguard).absolute())
    args.semgrep = str(Path(args.semgrep).absolute())

    trees = args.tree or [t for t in DEFAULT_TREES if t.is_dir()]
    missing = [t for t in trees if not t.is_dir()]
    if not trees or missing:
        ap.error(f"no such tree: {', '.join(map(str, missing)) or 'none given or found'}")
    WORK.mkdir(parents=True, exist_ok=True)

    now = dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    sg_bin = Path(args.semgrep)
    have_sg = not args.skip_semgrep and os.access(sg_bin, os.X_OK)
    ignore_flag = semgrep_ignore_flag(sg_bin) if have_sg else None
    shown: list[str] = []
    results = [run_tree(t, args, ignore_flag, stamp, shown) for t in trees]

    mg = Path(args.mageguard)
    rules_text = Path(args.rules).read_text()
    meta: dict[str, Any] = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join(
            [
                Path(sys.argv[0]).resolve().relative_to(REPO).as_posix()
                if Path(sys.argv[0]).resolve().is_relative_to(REPO)
                else sys.argv[0],
                *(argv if argv is not None else sys.argv[1:]),
            ]
        ),
        "machine": machine(),
        "mageguard_version": tool_version([str(mg), "--version"])
        if not args.skip_mageguard and os.access(mg, os.X_OK)
        else "not run",
        "semgrep_version": tool_version([str(sg_bin), "--version"]) if have_sg else "not run",
        "rule_count": sum(1 for line in rules_text.splitlines() if line.startswith("  - id: ")),
        "mageguard_command": next(
            (
                shlex.join(["mageguard", *placeholders(r.command[1:])])
                for tr in results
                for r in tr.runs
                if r.tool == "mageguard (cold)"
            ),
            "not run",
        ),
        "semgrep_command": shlex.join([Path(c).name if i == 0 else c for i, c in enumerate(shown)])
        if shown
        else "not run",
    }
    text = markdown(results, meta)
    raw = WORK / "results" / stamp / "results.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(
        json.dumps(
            {
                "meta": meta,
                "trees": [
                    {
                        **asdict(tr),
                        "runs": [{**asdict(r), "findings": len(r.findings)} for r in tr.runs],
                    }
                    for tr in results
                ],
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    print(text)
    if not args.no_results:
        if not args.results.exists():
            args.results.write_text(RESULTS_HEADER)
        with args.results.open("a", encoding="utf-8") as f:
            f.write(text)
        print(f"appended to {args.results}; raw numbers in {raw}", file=sys.stderr)
    failed = [r for tr in results for r in tr.runs if not r.ok and not r.timed_out]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
