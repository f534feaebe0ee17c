"""Transparent interception for modules that hard-code a provider's host: a private CA
and a certificate per AI host, so the gateway can answer for api.openai.com itself once
DNS for that host points at it and the Magento hosts trust the CA.

`init` writes ca.pem (give it to the Magento hosts' trust store) and ca.key (mode 0600,
stays on the gateway) plus one leaf certificate per host; `hosts_lines` renders the
/etc/hosts (or DNS override) entries; `server_context` picks the leaf by SNI. The TLS
terminator in front of the gateway's own HTTP port is `InterceptListener`: it marks each
request with a per-process secret so the pipeline knows it was intercepted (the marker
cannot be forged from outside) and forwards it, one request per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import logging
import os
import secrets
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mageguard.errors import ConfigError

log = logging.getLogger("mageguard.intercept")

INTERCEPT_HEADER = "x-mageguard-intercept"
CA_DAYS = 3650
LEAF_DAYS = 397  # the longest validity clients accept for a leaf
MAX_HEAD = 32 * 1024


@dataclass(frozen=True)
class CaFiles:
    directory: Path

    @property
    def cert(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def key(self) -> Path:
        return self.directory / "ca.key"

    def leaf(self, host: str) -> tuple[Path, Path]:
        name = host.replace("*", "_wildcard_")
        return self.directory / "hosts" / f"{name}.pem", self.directory / "hosts" / f"{name}.key"


def init(
    directory: Path, hosts: Iterable[str], *, org: str = "mageguard interception CA"
) -> CaFiles:
    """Create the CA (once) and a certificate for every host (again on every run, so a
    host added to the policy only needs another `init`)."""
    files = CaFiles(directory)
    (directory / "hosts").mkdir(parents=True, exist_ok=True)
    if files.cert.exists() and files.key.exists():
        ca_key = _load_key(files.key)
        ca_cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, org)])
        now = _now()
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(
            files.key,
            ca_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        files.cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    for host in sorted(set(hosts)):
        if certifiable(host):
            _leaf(files, host, ca_key, ca_cert)
        else:
            log.warning("%s: a wildcard inside a name cannot be certified; use egress rules", host)
    return files


def certifiable(host: str) -> bool:
    """An exact name or a leading `*.` wildcard: what a certificate's SAN can say."""
    return "*" not in host or (host.startswith("*.") and host.count("*") == 1)


def _leaf(
    files: CaFiles, host: str, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    san: list[x509.GeneralName]
    try:
        san = [x509.IPAddress(ipaddress.ip_address(host))]
    except ValueError:
        san = [x509.DNSName(host)]  # `*.openai.azure.com` covers one label, as those hosts use
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=LEAF_DAYS))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = files.leaf(host)
    _write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    cert_path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM)
    )


def exact_hosts(patterns: Iterable[str]) -> list[str]:
    """Hosts a hosts file can name (patterns with `*` need a DNS override instead)."""
    return sorted({p for p in patterns if "*" not in p})


def hosts_lines(address: str, hosts: Iterable[str]) -> str:
    """The /etc/hosts entries that send the AI hosts to the gateway."""
    lines = ["# mageguard: AI hosts answered by the gateway (mageguard intercept hosts)"]
    lines += [f"{address} {host}" for host in exact_hosts(hosts)]
    return "\n".join(lines) + "\n"


def server_context(directory: Path) -> ssl.SSLContext:
    """One context that serves each AI host its own certificate, chosen by SNI; a client
    that names no host, or one we hold no certificate for, is refused in the handshake."""
    files = CaFiles(directory)
    if not files.cert.exists():
        raise ConfigError(f"{directory}: no interception CA here (run `mageguard intercept init`)")
    contexts: dict[str, ssl.SSLContext] = {}
    wildcards: list[tuple[str, ssl.SSLContext]] = []
    for cert in sorted((directory / "hosts").glob("*.pem")):
        host = cert.stem.replace("_wildcard_", "*")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, cert.with_suffix(".key"))
        if "*" in host:
            wildcards.append((host.split("*", 1)[1], ctx))
        else:
            contexts[host] = ctx
    if not contexts and not wildcards:
        raise ConfigError(f"{directory}: no host certificates (run `mageguard intercept init`)")
    default = next(iter(contexts.values()), wildcards[0][1] if wildcards else None)
    assert default is not None

    def choose(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> int | None:
        host = (name or "").lower()
        chosen = contexts.get(host) or next(
            (c for suffix, c in wildcards if host.endswith(suffix)), None
        )
        if chosen is None:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        sock.context = chosen
        return None

    outer = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    outer.minimum_version = ssl.TLSVersion.TLSv1_2
    first = next(iter(sorted((directory / "hosts").glob("*.pem"))))
    outer.load_cert_chain(first, first.with_suffix(".key"))
    outer.sni_callback = choose
    return outer


class InterceptListener:
    """Terminates TLS for the AI hosts and hands each request to the gateway's own HTTP
    port, marked as intercepted; the provider's key the module sent is dropped there."""

    def __init__(
        self,
        host: str,
        port: int,
        context: ssl.SSLContext,
        upstream_port: int,
        sources: Sequence[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]],
        default_tenant: str,
        secret: str,
        upstream_host: str = "127.0.0.1",
    ) -> None:
        self.host, self.port, self.context = host, port, context
        self.upstream_host, self.upstream_port = upstream_host, upstream_port
        self.sources = sources
        self.default_tenant = default_tenant
        self.secret = secret
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve,
            self.host,
            self.port,
            ssl=self.context,
            limit=MAX_HEAD,
            ssl_handshake_timeout=10,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    def _tenant(self, address: str) -> str:
        with contextlib.suppress(ValueError):
            ip = ipaddress.ip_address(address)
            for network, tenant in self.sources:
                if ip in network:
                    return tenant
        return self.default_tenant

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("", 0)
        ssl_object = writer.get_extra_info("ssl_object")
        sni = (getattr(ssl_object, "server_hostname", None) or "").lower()
        up_writer: asyncio.StreamWriter | None = None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 15)
            line, *lines = head.decode("latin-1").split("\r\n")
            kept = [
                h
                for h in lines
                if h
                and h.split(":", 1)[0].strip().lower()
                not in {"authorization", "x-api-key", "connection", INTERCEPT_HEADER, "api-key"}
            ]
            host = sni or next(
                (h.split(":", 1)[1].strip() for h in lines if h.lower().startswith("host:")), ""
            )
            if not host.endswith("]"):  # api.openai.com:443 -> api.openai.com
                host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
            mark = f"{self.secret};tenant={self._tenant(str(peer[0]))};host={host[:128]}"
            rewritten = "\r\n".join(
                [line, *kept, f"{INTERCEPT_HEADER}: {mark}", "Connection: close", "", ""]
            ).encode("latin-1")
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
            up_writer.write(rewritten)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ConnectionError,
            OSError,
            ValueError,
        ):
            pass
        finally:
            for w in (up_writer, writer):
                if w is not None:
                    with contextlib.suppress(Exception):
                        w.close()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    finally:
        with contextlib.suppress(Exception):
            if dst.can_write_eof():
                dst.write_eof()


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError(f"{path}: not the EC key `mageguard intercept init` writes")
    return key


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
