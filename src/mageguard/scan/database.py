"""`scan --db DSN`: the live configuration of a Magento store, from its database or a dump.

core_config_data says which AI endpoints, keys and toggles are really in effect, per
website and store view; store_website / store_group / store name those scopes, so each
row is attributed to a tenant. A live database is only read (read-only session, SELECTs).
A mysqldump file is parsed without any database: only the INSERT and CREATE TABLE
statements of those four tables are tokenized; every other statement is skipped at regex
speed, quote-aware, without being kept.

Secrets never leave this module raw: a Fact's identity is its scope and config path, its
evidence masks keys, and messages mask the DSN's password.
"""

from __future__ import annotations

import functools
import gzip
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pymysql

from mageguard.catalog import Catalog, Provider, load_catalog
from mageguard.errors import DatabaseError
from mageguard.magento_db import connect, failure, is_dsn, mask_dsn, parse_dsn
from mageguard.scan.analyzers.secrets import KeyMatch, find_keys, mask
from mageguard.scan.config_sources import ConfigValue
from mageguard.scan.facts import Fact
from mageguard.scan.result import Tenant

CONFIG_TABLE = "core_config_data"
# Magento 2.4's column order (db_schema.xml of Magento_Store and Magento_Config), for an
# INSERT without a column list in a dump that holds no CREATE TABLE for it.
DEFAULT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "store_website": ("website_id", "code", "name", "sort_order", "default_group_id", "is_default"),
    "store_group": (
        "group_id",
        "website_id",
        "name",
        "root_category_id",
        "default_store_id",
        "code",
    ),
    "store": ("store_id", "code", "website_id", "group_id", "name", "sort_order", "is_active"),
    CONFIG_TABLE: ("config_id", "scope", "scope_id", "path", "value", "updated_at"),
}
_SCOPES = {"website": "websites", "store": "stores"}  # singular spellings some modules write


@dataclass(frozen=True)
class ConfigRow:
    config_id: int
    scope: str  # default | websites | stores
    scope_id: int
    path: str
    value: str | None
    line: int | None = None  # 1-based line in a dump; None for a live database


@dataclass(frozen=True)
class DatabaseSnapshot:
    source: str  # the DSN with its password masked, or the dump path as given
    rows: tuple[ConfigRow, ...]
    tenants: tuple[Tenant, ...]  # websites, then store views; never the admin ones (id 0)
    location: str = ""  # "db://<host>/<db>" for a live database, the dump path for a dump
    is_dump: bool = False

    @functools.cached_property
    def _by_scope(self) -> dict[tuple[str, int], Tenant]:
        return {(t.scope, t.scope_id): t for t in self.tenants}

    def tenant(self, scope: str, scope_id: int) -> Tenant | None:
        return self._by_scope.get((_SCOPES.get(scope, scope), scope_id))

    def tenant_code(self, scope: str, scope_id: int) -> str | None:
        """The code a scope is known by: "default", a website's or a store view's code;
        None for an id that names no website or store (rows a deleted store left behind)."""
        if scope == "default":
            return "default"
        found = self.tenant(scope, scope_id)
        return found.code if found else None

    def row_source(self, row: ConfigRow) -> str:
        """Where a row was read, in ConfigValue.source's form."""
        if self.is_dump:
            return f"{self.location}:{row.line}"
        return f"db://{CONFIG_TABLE}/{row.config_id}"


@dataclass(frozen=True)
class _Record:
    """One row of any of the four tables, as text, before it is typed."""

    values: Mapping[str, str | None]
    line: int | None = None

    def text(self, column: str) -> str:
        return self.values.get(column) or ""

    def num(self, column: str, source: str) -> int:
        try:
            return int(self.values.get(column) or 0)
        except ValueError:
            where = f"{source}:{self.line}" if self.line else source
            raise DatabaseError(f"{where}: {column} is not a number") from None


def read_database(dsn: str) -> DatabaseSnapshot:
    """A live database (`mysql://user:pass@host:port/db?prefix=mg_`, `mariadb://...`) or a
    mysqldump file (plain or gzipped). Raises DatabaseError; its message masks the password."""
    if is_dsn(dsn):
        return _read_live(dsn)
    return _read_dump(dsn)


def _read_live(dsn: str) -> DatabaseSnapshot:
    parts = parse_dsn(dsn)
    prefix = parts.prefix
    conn = connect(parts)
    tables: dict[str, list[_Record]] = {}
    try:
        with conn.cursor() as cur:
            for base in DEFAULT_COLUMNS:
                try:
                    cur.execute(f"SELECT * FROM `{prefix}{base}`")
                except pymysql.MySQLError as exc:
                    if base != CONFIG_TABLE and exc.args[:1] == (1146,):
                        continue  # no such table: the scopes stay unnamed
                    raise failure(parts, f"read {prefix}{base} from", exc) from None
                names = [d[0] for d in cur.description or ()]
                tables[base] = [
                    _Record(dict(zip(names, map(_text, row), strict=True)))
                    for row in cur.fetchall()
                ]
    except pymysql.MySQLError as exc:
        raise failure(parts, "read", exc) from None
    finally:
        conn.close()
    return _snapshot(parts.shown, f"db://{parts.host}/{parts.database}", tables, is_dump=False)


def _text(value: object) -> str | None:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return None if value is None else str(value)


def _read_dump(path: str) -> DatabaseSnapshot:
    found: dict[str, list[tuple[str, int]]] = {}
    try:
        with Path(path).open("rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        with (
            gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
            if gzipped
            else Path(path).open(encoding="utf-8", errors="replace", newline="")
        ) as stream:
            for table, text, line in _statements(stream, path):
                found.setdefault(table, []).append((text, line))
    except (OSError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise DatabaseError(f"cannot read SQL dump {path}: {reason}") from None
    names = [n for n in found if n.endswith(CONFIG_TABLE)]
    if not names:
        raise DatabaseError(f"{path}: no {CONFIG_TABLE} table in this dump")
    prefix = min(names, key=len).removesuffix(CONFIG_TABLE)  # mg_core_config_data -> mg_
    tables = {t: _parse_table(found.get(prefix + t, ()), t, path) for t in DEFAULT_COLUMNS}
    return _snapshot(path, path, tables, is_dump=True)


def _snapshot(
    source: str, location: str, tables: Mapping[str, list[_Record]], is_dump: bool
) -> DatabaseSnapshot:
    def by(table: str, column: str) -> list[tuple[int, _Record]]:
        return sorted(
            ((r.num(column, source), r) for r in tables.get(table, ())), key=lambda p: p[0]
        )

    websites = by("store_website", "website_id")
    site_code = {wid: r.text("code") for wid, r in websites}
    group_site = {gid: r.num("website_id", source) for gid, r in by("store_group", "group_id")}
    # 0 is Magento's admin website and admin store: not a tenant.
    tenants = [
        Tenant("websites", wid, r.text("code"), r.text("name"), None, r.text("is_default") == "1")
        for wid, r in websites
        if wid
    ]
    for sid, r in by("store", "store_id"):
        site = r.num("website_id", source) or group_site.get(r.num("group_id", source), 0)
        if sid:
            tenants.append(
                Tenant("stores", sid, r.text("code"), r.text("name"), site_code.get(site))
            )
    rows = [
        ConfigRow(
            cid,
            _SCOPES.get(r.text("scope"), r.text("scope") or "default"),
            r.num("scope_id", source),
            r.text("path"),
            r.values.get("value"),
            r.line,
        )
        for cid, r in by(CONFIG_TABLE, "config_id")
    ]
    return DatabaseSnapshot(source, tuple(rows), tuple(tenants), location, is_dump)


# --- the dump tokenizer ----------------------------------------------------------------

_HEAD = re.compile(
    r"(?:INSERT|REPLACE)\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE)\s+)*INTO\s+"
    r"|CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?",
    re.I,
)
_NAME = re.compile(r"(?:(?:`[^`]+`|\w+)\.)?(`[^`]+`|\w+)")
# Inside a statement: everything up to `;` or up to a quote that does not close on this
# line. Possessive, so a megabyte-long INSERT of another table costs one regex call.
_BODY = re.compile(r"""(?:[^'"`;]++|'(?:[^'\\]++|\\.)*+'|"(?:[^"\\]++|\\.)*+"|`[^`]*+`)*+""", re.S)
_QUOTE_END = {q: re.compile(rf"(?:[^{q}\\]++|\\.)*+{q}", re.S) for q in "'\""}
_QUOTE_END["`"] = re.compile(r"[^`]*+`")  # identifiers have no backslash escapes


def _statements(lines: Iterable[str], path: str) -> Iterator[tuple[str, str, int]]:
    """(table, text, first line) of each INSERT / CREATE TABLE statement whose table name
    ends with one of the four we read (the prefix is decided later); no other is kept."""
    quote, in_statement, comment = "", False, False
    keep: str | None = None
    buf: list[str] = []
    start = 0
    for lineno, line in enumerate(lines, 1):
        pos, end = 0, len(line)
        while pos < end:
            if quote:
                m = _QUOTE_END[quote].match(line, pos)
                stop = m.end() if m else end
                if keep:
                    buf.append(line[pos:stop])
                pos, quote = stop, "" if m else quote
            elif in_statement:
                m = _BODY.match(line, pos)  # always matches, if only ""
                stop = m.end() if m else pos
                if keep:
                    buf.append(line[pos:stop])
                pos = stop
                if pos < end and line[pos] == ";":
                    if keep:
                        yield keep, "".join(buf), start
                    in_statement, keep, buf, pos = False, None, [], pos + 1
                elif pos < end:  # a quoted string that goes on past this line
                    quote, pos = line[pos], pos + 1
                    if keep:
                        buf.append(quote)
            elif comment:
                close = line.find("*/", pos)
                pos, comment = (end, True) if close < 0 else (close + 2, False)
            else:
                pos = end - len(line[pos:].lstrip())
                head = line[pos : pos + 3]
                if not head or head.startswith(("--", "#")):
                    break
                if head.startswith("/*") and head != "/*!":  # /*!40101 ... */; is a statement
                    pos, comment = pos + 2, True
                    continue
                in_statement, start = True, lineno
                m = _HEAD.match(line, pos)
                name = _NAME.match(line, m.end()) if m else None
                table = name.group(1).strip("`") if name else ""
                keep = table if table.endswith(tuple(DEFAULT_COLUMNS)) else None
    if keep:
        raise DatabaseError(f"{path}:{start}: the statement never ends (a truncated dump?)")


_TOKEN = re.compile(
    r"""(?P<space>\s+|--[^\n]*|\#[^\n]*|/\*.*?\*/)
    | (?P<str>'(?:[^'\\]++|\\.|'')*+'|"(?:[^"\\]++|\\.|"")*+")
    | (?P<ident>`(?:[^`]|``)+`)
    | (?P<hex>0x[0-9A-Fa-f]+|[xX]'[0-9A-Fa-f]*')
    | (?P<num>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<word>[A-Za-z_$][\w$]*)
    | (?P<punct>[(),;.=])""",
    re.X | re.S,
)
_UNESCAPE = {q: re.compile(rf"\\(.)|{q}{q}", re.S) for q in "'\""}
# MySQL's escapes; \% and \_ keep their backslash, any other \x is x.
_ESCAPES = {**dict(zip("0bnrtZ", "\0\b\n\r\t\x1a", strict=True)), "%": "\\%", "_": "\\_"}
_NOT_COLUMNS = {"PRIMARY", "KEY", "INDEX", "UNIQUE", "CONSTRAINT", "FOREIGN", "FULLTEXT", "CHECK"}

_Token = tuple[str, str, int]  # kind, text, line


def _tokens(text: str, line: int, path: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # the message never quotes the text: it may hold a secret
            raise DatabaseError(f"{path}:{line}: cannot parse this SQL statement")
        if m.lastgroup != "space":
            out.append((m.lastgroup or "", m.group(), line))
        line += m.group().count("\n")
        pos = m.end()
    return out


def _unquote(token: str) -> str:
    def one(m: re.Match[str]) -> str:
        return token[0] if m.group(1) is None else _ESCAPES.get(m.group(1), m.group(1))

    return _UNESCAPE[token[0]].sub(one, token[1:-1])


def _name(token: _Token) -> str:
    return token[1][1:-1].replace("``", "`") if token[0] == "ident" else token[1]


def _parse_table(statements: Iterable[tuple[str, int]], table: str, path: str) -> list[_Record]:
    columns, records = DEFAULT_COLUMNS[table], list[_Record]()
    for text, line in statements:
        tokens = _tokens(text, line, path)
        try:
            if tokens[0][1].upper() == "CREATE":
                columns = _create_columns(tokens) or columns
            else:
                records.extend(_insert_rows(tokens, columns, path))
        except (IndexError, StopIteration):
            raise DatabaseError(f"{path}:{line}: an incomplete {table} statement") from None
    return records


def _create_columns(tokens: list[_Token]) -> tuple[str, ...]:
    """Column names in order: the first word of each top-level element that is no key."""
    out, depth, element_start = [], 0, False
    for kind, text, _ in tokens:
        word = kind == "word" and text.upper() not in _NOT_COLUMNS
        if element_start and (kind == "ident" or word):
            out.append(_name((kind, text, 0)))
        depth += {"(": 1, ")": -1}.get(text, 0)
        element_start = text in ("(", ",") and depth == 1
    return tuple(out)


def _insert_rows(tokens: list[_Token], columns: tuple[str, ...], path: str) -> Iterator[_Record]:
    i = next(n for n, t in enumerate(tokens) if t[1].upper() == "INTO") + 1
    i += 3 if tokens[i + 1][1] == "." else 1  # `db`.`table` or `table`
    if tokens[i][1] == "(":
        end = next(n for n in range(i, len(tokens)) if tokens[n][1] == ")")
        columns = tuple(_name(t) for t in tokens[i + 1 : end] if t[1] != ",")
        i = end + 1
    if tokens[i][1].upper() not in ("VALUES", "VALUE"):
        raise DatabaseError(f"{path}:{tokens[i][2]}: only INSERT ... VALUES is understood")
    i += 1
    while i < len(tokens) and tokens[i][1] == "(":
        line, values, i = tokens[i][2], [], i + 1
        while tokens[i][1] != ")":
            value, i = _value(tokens, i, path)
            values.append(value)
            if tokens[i][1] == ",":
                i += 1
        if len(values) != len(columns):
            raise DatabaseError(f"{path}:{line}: {len(values)} values for {len(columns)} columns")
        yield _Record(dict(zip(columns, values, strict=True)), line)
        i += 2 if i + 1 < len(tokens) and tokens[i + 1][1] == "," else 1


def _value(tokens: list[_Token], i: int, path: str) -> tuple[str | None, int]:
    kind, text, line = tokens[i]
    if kind == "word" and text.startswith("_") and tokens[i + 1][0] == "str":
        i += 1  # a charset introducer: _binary '...'
        kind, text, line = tokens[i]
    if kind == "str":
        return _unquote(text), i + 1
    if kind == "num":
        return text, i + 1
    if kind == "hex":
        digits = text[2:] if text.startswith("0x") else text[2:-1]
        return bytes.fromhex(digits).decode("utf-8", "replace"), i + 1
    if kind == "word" and text.upper() == "NULL":
        return None, i + 1
    if kind == "word" and tokens[i + 1][1] == "(" and tokens[i + 2][1] == ")":
        return text, i + 3  # CURRENT_TIMESTAMP()
    if kind == "word":
        return {"TRUE": "1", "FALSE": "0"}.get(text.upper(), text), i + 1
    raise DatabaseError(f"{path}:{line}: unexpected {text!r} in a VALUES row")


# --- what the rows mean ----------------------------------------------------------------

# Magento's Encryptor output: <key version>:<cipher version>:[<iv>:]<base64>.
_ENCRYPTED = re.compile(r"\d+:[0-3](?::[A-Za-z0-9+/=]+){1,2}")
_CREDENTIAL = re.compile(r"(?:^|_)(?:api_?key|secret|secret_key|token|private_key|access_key)\Z")
_TOGGLE = re.compile(r"(?:is_)?(?:enabled?|active)")
_TRUE = frozenset({"1", "true", "yes", "on"})
_SERVICES = "services_connector/"
_SERVICES_KEY = re.compile(r"(?:production|sandbox)_(?:api_key|private_key)\Z")
_SERVICES_ID = re.compile(r"(?:environment|project)(?:_id|_name)?\Z")


def config_values(snapshot: DatabaseSnapshot) -> list[ConfigValue]:
    """Every non-NULL row, so that `scopeConfig->getValue(path)` resolves per scope. Values
    are raw (an endpoint must resolve); they are for resolution, never for output."""
    return [
        ConfigValue(
            row.path,
            row.value,
            snapshot.row_source(row),
            row.scope,
            snapshot.tenant_code(row.scope, row.scope_id),
        )
        for row in snapshot.rows
        if row.value is not None
    ]


def is_encrypted(value: str) -> bool:
    """A value as Magento's Encrypted backend model stores it."""
    return bool(_ENCRYPTED.fullmatch(value.strip()))


def _provider_words(catalog: Catalog) -> dict[str, str]:
    """Config-path words that name a provider (providers.yaml `config_words`)."""
    return {w: p.id for p in catalog.providers for w in p.config_words}


def _named_provider(catalog: Catalog, words: Mapping[str, str], path: str) -> Provider | None:
    found = next((w for w in re.split(r"[/_.\-]", path.lower()) if w in words), None)
    return catalog.provider_by_id[words[found]] if found else None


def _section(path: str) -> str:
    return path.split("/", 1)[0]


def _field(path: str) -> str:
    return path.rsplit("/", 1)[-1].lower()


@dataclass(frozen=True)
class _Context:
    """What one row means depends on the others: this is what it needs of them."""

    catalog: Catalog
    named: Mapping[int, Provider | None]  # config_id -> the provider its path names
    endpoints: Mapping[int, tuple[Provider, str]]  # config_id -> provider, host
    section_endpoint: Mapping[str, tuple[Provider, str]]  # a section's first endpoint
    credentials: frozenset[int]  # credential fields of AI sections, encrypted or not
    keys: Mapping[int, KeyMatch]  # config_id -> the first catalog key in its value
    ai_sections: frozenset[str]


def database_facts(
    snapshot: DatabaseSnapshot, catalog: Catalog | None = None, ai_sections: Iterable[str] = ()
) -> list[Fact]:
    """One Fact per core_config_data row that configures AI: endpoints, plaintext keys,
    enabled toggles of AI sections, and Adobe Commerce services connector credentials.

    A section (a path's first segment) is AI when one of its rows names an AI endpoint or
    key, or when the caller knows it is: `ai_sections` are the sections that the code scan
    found AI modules reading (`lumen_smartsearch` of a module that calls a model)."""
    catalog = catalog or load_catalog()
    words = _provider_words(catalog)
    rows = [r for r in snapshot.rows if r.value and r.value.strip() and r.path]
    own = [r for r in rows if not r.path.startswith(_SERVICES)]
    named = {r.config_id: _named_provider(catalog, words, r.path) for r in rows}
    endpoints = {r.config_id: hit for r in own if (hit := catalog.provider_for_url(r.value or ""))}
    section_endpoint: dict[str, tuple[Provider, str]] = {}
    for r in own:
        if r.config_id in endpoints:
            section_endpoint.setdefault(_section(r.path), endpoints[r.config_id])
    ai = set(section_endpoint) | set(ai_sections)
    credentials = frozenset(
        r.config_id
        for r in own
        if _CREDENTIAL.search(_field(r.path)) and (_section(r.path) in ai or named[r.config_id])
    )
    ai |= {_section(r.path) for r in own if r.config_id in credentials}
    keys: dict[int, KeyMatch] = {}
    for r in own:
        in_ai = _section(r.path) in ai or bool(named[r.config_id])
        found = find_keys(r.value or "", ai_unit=in_ai)
        key = next(iter(found), None)
        if key and not is_encrypted(r.value or ""):
            keys[r.config_id] = key
    ai |= {_section(r.path) for r in own if r.config_id in keys}
    ctx = _Context(catalog, named, endpoints, section_endpoint, credentials, keys, frozenset(ai))
    return [fact for r in rows if (fact := _fact(snapshot, ctx, r)) is not None]


def _fact(snapshot: DatabaseSnapshot, ctx: _Context, row: ConfigRow) -> Fact | None:
    value, field, cid = (row.value or "").strip(), _field(row.path), row.config_id
    in_section = ctx.section_endpoint.get(_section(row.path))
    provider = ctx.named[cid] or (in_section[0] if in_section else None)
    host = destination = None
    extra: tuple[tuple[str, str], ...] = ()
    if row.path.startswith(_SERVICES):
        provider = ctx.catalog.provider_by_id["adobe_commerce_saas"]
        if _SERVICES_KEY.search(field):  # Adobe's SaaS keys, plaintext or encrypted alike
            stored = "encrypted" if is_encrypted(value) else "plaintext"
            kind, shown = "secret", "<encrypted>" if stored == "encrypted" else mask(value)
            # Never "plaintext": that condition belongs to db-ai-key-plaintext.
            conditions = {"services_connector"} | ({stored} - {"plaintext"})
            extra = (("key_type", "services_connector"), ("stored", stored))
        elif _SERVICES_ID.search(field):
            kind, conditions, shown = "config_value", {"services_connector"}, value
        else:
            return None
    elif key := ctx.keys.get(cid):
        kind, conditions, shown = "secret", {"plaintext", "not_services_connector"}, mask(key.value)
        provider = ctx.catalog.provider_by_id[key.pattern.provider]
        host = ctx.endpoints[cid][1] if cid in ctx.endpoints else None
        extra = (("key_type", key.pattern.id), ("stored", "plaintext"))
    elif cid in ctx.endpoints:
        provider, host = ctx.endpoints[cid]
        kind, conditions, shown = "config_value", set(), _safe_url(value)
        destination = provider.kind
    elif cid in ctx.credentials:
        if is_encrypted(value):
            return None  # what Magento's Encrypted backend model stores: no leak by itself
        kind, conditions, shown = "secret", {"plaintext", "not_services_connector"}, mask(value)
        extra = (("key_type", "credential"), ("stored", "plaintext"))
    elif (
        _TOGGLE.fullmatch(field)
        and value.lower() in _TRUE
        and (_section(row.path) in ctx.ai_sections or ctx.named[cid])
    ):
        kind, conditions, shown = "config_value", {"enabled"}, value
    else:
        return None
    code = snapshot.tenant_code(row.scope, row.scope_id)
    evidence = _one_line(f"{row.path} = {shown} at {_scope_label(row, code)}")
    return Fact(
        kind=kind,
        path=snapshot.location if snapshot.is_dump else _live_path(snapshot, row),
        line=row.line or 1,
        column=1,
        matched=f"{row.scope}:{row.scope_id}:{row.path}",
        language="db",
        destination=destination,
        provider=provider.id if provider else None,
        host=host,
        conditions=frozenset(conditions),
        tenant=code,
        detail=(
            ("config_path", row.path),
            ("scope", row.scope),
            ("scope_code", code or ""),
            ("evidence", evidence),
            ("config_id", str(cid)),
            *extra,
        ),
    )


def _live_path(snapshot: DatabaseSnapshot, row: ConfigRow) -> str:
    return f"{snapshot.location}/{CONFIG_TABLE}/{row.config_id}"


def _scope_label(row: ConfigRow, code: str | None) -> str:
    if row.scope == "default":
        return "default scope"
    name = {"websites": "website", "stores": "store view"}.get(row.scope, row.scope)
    return f"{name} {code}" if code else f"{name} id {row.scope_id}"


def _safe_url(url: str) -> str:
    """An endpoint as evidence: no user:password@ and no query string (keys ride there)."""
    url = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@?#]*@", r"\1", url.strip())
    return re.sub(r"\?.*", "?****", url, flags=re.S)


def _one_line(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "ConfigRow",
    "DatabaseSnapshot",
    "config_values",
    "database_facts",
    "is_encrypted",
    "mask_dsn",
    "read_database",
]
