#!/usr/bin/env python3
"""`mageguard audit ingest` throughput on a generated mixed log, beside the floor: a plain
`grep -F -f hosts` over the same files (hosts: the same AI host literals the ingest gate
uses), in the same run, page cache warm for both.

The log is four files, by size: nginx combined 40%, Squid 20%, Zeek dns 20%, Zeek ssl
20%; their lines are drawn from the shared real logs (../shared/data) when present, and
a small share (--ai-share) are AI-host records (CONNECT api.openai.com, SNI
api.anthropic.com, DNS answers for api.openai.com...).

    .venv/bin/python bench/ingest_bench.py [--size-mb 1024] [--ai-share 0.002] [--keep]
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mageguard.audit.hosts import gate_literals  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
T = "\t"
SHARES = {"nginx.log": 0.4, "squid.log": 0.2, "zeek_dns.log": 0.2, "zeek_ssl.log": 0.2}


def _real(relative: str, fallback: list[str]) -> list[str]:
    path = SHARED / relative
    if not path.is_file():
        return fallback
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
    return [line for line in text.splitlines() if line and not line.startswith("#")][:20000]


def _backgrounds() -> dict[str, tuple[list[str], list[str]]]:
    """(background lines, AI lines) per file."""
    ua = '"-" "php-curl/8.2"'
    nginx_ai = [
        f'10.0.1.{i} - - [17/May/2015:10:06:00 +0000] "CONNECT api.openai.com:443 HTTP/1.1" '
        f"200 4000 {ua}"
        for i in range(2, 9)
    ]
    squid_ai = [
        f"1677971741.100  1234 10.0.1.{i} TCP_TUNNEL/200 5120 CONNECT api.anthropic.com:443 - "
        "HIER_DIRECT/160.79.104.10 -"
        for i in range(2, 9)
    ]
    dns_ai = [
        T.join(["1521911900.000000", f"CdnsAI{i:04d}", f"10.47.1.{i}", "53001", "10.0.0.100",
                "53", "udp", "4242", "0.010000", "api.openai.com", "1", "C_INTERNET", "1", "A",
                "0", "NOERROR", "F", "F", "T", "T", "0",
                "api.openai.com.cdn.cloudflare.net,162.159.140.245", "60.0,60.0", "F"])
        for i in range(2, 9)
    ]  # fmt: skip
    ssl_ai = [
        T.join(["1521911800.100000", f"CAIanth{i:04d}", f"10.47.2.{i}", "51000",
                "160.79.104.10", "443", "TLSv13", "TLS_AES_128_GCM_SHA256", "x25519",
                "api.anthropic.com", "F", "-", "h2", "T", "CsxknGIti", "(empty)", "(empty)",
                "-", "-"])
        for i in range(2, 9)
    ]  # fmt: skip
    squid_bg = [
        f"16779717{n:02d}.{n:03d}  {n * 7} 10.0.{n % 5}.{n} TCP_MISS/200 {n * 97} GET "
        f"http://cdn{n % 9}.example.com/static/{n}.js - HIER_DIRECT/93.184.216.{n} text/javascript"
        for n in range(10, 99)
    ]
    return {
        "nginx.log": (_real("logs_apache_combined/apache_logs.log", squid_bg), nginx_ai),
        "squid.log": (_real("logs_squid_sample/squid_access.log", []) + squid_bg, squid_ai),
        "zeek_dns.log": (_real("logs_zeek_wrccdc/dns.log.gz", dns_ai), dns_ai),
        "zeek_ssl.log": (_real("logs_zeek_wrccdc/ssl.log.gz", ssl_ai), ssl_ai),
    }


ZEEK_HEADERS = {
    "zeek_dns.log": "logs_zeek_wrccdc/dns.log.gz",
    "zeek_ssl.log": "logs_zeek_wrccdc/ssl.log.gz",
}


def _header(name: str) -> str:
    relative = ZEEK_HEADERS.get(name)
    if relative is None or not (SHARED / relative).is_file():
        return ""
    text = gzip.decompress((SHARED / relative).read_bytes()).decode()
    return "".join(line + "\n" for line in text.splitlines()[:8] if line.startswith("#"))


def generate(out: Path, size: int, ai_share: float) -> tuple[list[Path], int, int]:
    """The files, their lines and their AI lines. Blocks of ~4 MB are drawn once and
    written repeatedly (with their AI lines at new random places) until the size is met."""
    rng = random.Random(7)
    out.mkdir(parents=True, exist_ok=True)
    files, lines, ai = [], 0, 0
    for name, (background, ai_lines) in _backgrounds().items():
        target = int(size * SHARES[name])
        path = out / name
        block = [rng.choice(background) for _ in range(20_000)]
        with path.open("w") as f:
            f.write(_header(name))
            written = 0
            while written < target:
                chunk = list(block)
                for _ in range(max(1, int(len(chunk) * ai_share))):
                    chunk[rng.randrange(len(chunk))] = rng.choice(ai_lines)
                    ai += 1
                text = "\n".join(chunk) + "\n"
                f.write(text)
                written += len(text)
                lines += len(chunk)
        files.append(path)
    return files, lines, ai


def _vpc(path: Path, size: int) -> Path:
    """Version 2 records from private addresses to random public ones."""
    rng = random.Random(5)
    block = "".join(
        f"2 123456789010 eni-1235b8ca123456789 172.31.{rng.randrange(256)}.{rng.randrange(256)} "
        f"52.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)} "
        f"{rng.randrange(1024, 65535)} 443 6 20 {rng.randrange(100, 90000)} 1418530010 "
        "1418530070 ACCEPT OK\n"
        for _ in range(20_000)
    )
    with path.open("w") as f:
        for _ in range(max(1, size // len(block))):
            f.write(block)
    return path


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--ai-share", type=float, default=0.002)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mageguard-ingest-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument(
        "--vpc-mb",
        type=int,
        default=0,
        help="also time a VPC flow log of this size on its own (addresses only: no gate, "
        "every line parsed by DuckDB)",
    )
    args = parser.parse_args()

    t0 = time.perf_counter()
    files, lines, ai = generate(args.dir / "logs", args.size_mb * 1024 * 1024, args.ai_share)
    size = sum(p.stat().st_size for p in files)
    took = time.perf_counter() - t0
    print(f"generated {size / 1e6:.0f} MB, {lines:,} lines ({ai:,} AI) in {took:.0f} s")
    hosts = args.dir / "hosts.txt"
    hosts.write_text("\n".join(gate_literals()) + "\n")
    for p in files:  # warm the page cache for both tools
        with p.open("rb") as f:
            while f.read(1 << 24):
                pass

    grep_s, grep_out = timed(["grep", "-c", "-F", "-f", str(hosts), *map(str, files)])
    matched = sum(int(line.rsplit(":", 1)[1]) for line in grep_out.splitlines())
    db = args.dir / "flows.duckdb"
    db.unlink(missing_ok=True)
    mageguard = str(ROOT / ".venv" / "bin" / "mageguard")
    ingest_s, _ = timed([mageguard, "audit", "ingest", "--db", str(db), *map(str, files)])
    flows_s, flows_out = timed([mageguard, "audit", "flows", "--db", str(db)])

    mb = size / 1e6
    print(f"grep -F -f hosts:        {grep_s:7.2f} s  {mb / grep_s:7.1f} MB/s  "
          f"{lines / grep_s:12,.0f} lines/s  ({matched:,} matching lines)")  # fmt: skip
    print(f"mageguard audit ingest:  {ingest_s:7.2f} s  {mb / ingest_s:7.1f} MB/s  "
          f"{lines / ingest_s:12,.0f} rows/s")  # fmt: skip
    print(f"ratio ingest / grep:     {ingest_s / grep_s:7.2f}x")
    found = next((line for line in flows_out.splitlines() if "AI flow(s)" in line), "?")
    print(f"mageguard audit flows:   {flows_s:7.2f} s  ({found.rstrip(':')})")
    print(f"flow store: {db.stat().st_size / 1e6:.1f} MB")
    if args.vpc_mb:
        vpc = _vpc(args.dir / "logs" / "vpc_flow.log", args.vpc_mb * 1024 * 1024)
        vpc_lines = sum(1 for _ in vpc.open("rb"))
        db.unlink()
        vpc_s, _ = timed([mageguard, "audit", "ingest", "--db", str(db), str(vpc)])
        vpc_mb = vpc.stat().st_size / 1e6
        print(f"ingest VPC flow log:     {vpc_s:7.2f} s  {vpc_mb / vpc_s:7.1f} MB/s  "
              f"{vpc_lines / vpc_s:12,.0f} rows/s  ({vpc_mb:.0f} MB)")  # fmt: skip
    if not args.keep:
        shutil.rmtree(args.dir)


if __name__ == "__main__":
    main()
