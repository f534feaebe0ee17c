"""The programs `egress verify` runs inside its namespaces, here on this host's loopback:
the stand-in answers TCP with a banner and UDP with an echo, and the prober tells a
connection from the error that stopped it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.gateway import free_port


def agent(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mageguard.egress.agent", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def standin() -> Iterator[tuple[int, int]]:
    tcp, udp = free_port(), free_port()
    listen = json.dumps([["tcp", "127.0.0.1", tcp], ["udp", "127.0.0.1", udp]])
    proc = subprocess.Popen(
        [sys.executable, "-m", "mageguard.egress.agent", "serve", listen],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        yield tcp, udp
    finally:
        proc.kill()
        proc.communicate()


def probe(*items: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(agent("probe", stdin=json.dumps(list(items))))
    return found


def test_a_listening_stand_in_is_connected_over_tcp_and_udp(standin: tuple[int, int]) -> None:
    tcp, udp = standin
    assert probe(
        {"id": 0, "target": "127.0.0.1", "port": tcp, "protocol": "tcp", "family": 4},
        {"id": 1, "target": "127.0.0.1", "port": udp, "protocol": "udp", "family": 4},
    ) == [
        {"id": 0, "address": "127.0.0.1", "connected": True, "detail": "mageguard-standin"},
        {"id": 1, "address": "127.0.0.1", "connected": True, "detail": "echoed"},
    ]


def test_nothing_listening_is_not_connected_and_says_why() -> None:
    port = free_port()
    (result,) = probe({"id": 7, "target": "127.0.0.1", "port": port, "protocol": "tcp"})
    assert (result["connected"], result["detail"]) == (False, "Connection refused")


def test_a_name_that_does_not_resolve_is_reported_not_raised() -> None:
    (result,) = probe({"id": 0, "target": "no-such-host.invalid", "port": 443, "protocol": "tcp"})
    assert result["connected"] is False and result["address"] == ""


def test_usage_errors_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mageguard.egress.agent", "dance"], capture_output=True
    )
    assert done.returncode == 2
