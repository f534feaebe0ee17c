"""`scan --db`: core_config_data and the store tables, from a mysqldump file or a live
MariaDB, turned into tenants, ConfigValues and Facts; secrets and passwords never shown."""

from __future__ import annotations

import gzip
import json
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import pymysql
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymysql.converters import escape_string

from mageguard.errors import DatabaseError
from mageguard.scan.config_sources import ConfigValue
from mageguard.scan.database import (
    ConfigRow,
    DatabaseSnapshot,
    config_values,
    database_facts,
    is_encrypted,
    mask_dsn,
    read_database,
)
from mageguard.scan.facts import Fact
from mageguard.scan.result import Tenant
from tests.helpers.services import MariaDB, require_mariadb

FIXTURE = Path(__file__).parent / "fixtures" / "magento-config.sql"
SAMPLE_STORE_DUMP = Path(__file__).parent.parent / "fixtures" / "magento-db.sql"
OPENAI_KEY = "sk-proj-T3stOnlyN0tReal4Mageguard9FixtureQ7wK2mZ"
# Every plaintext secret of the fixture: none may appear in a Fact, evidence or message.
RAW_SECRETS = (
    OPENAI_KEY,
    "T3st-only-anthropic-credential-2f9c",
    "T3stOnlySeonLicense0042",
    "T3st-gemini-credential-77",
    "MIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEA0T3stOnly",
    "license=T3stL1c",
)
STORE_TABLES = """
INSERT INTO `store_website` VALUES (0,'admin','Admin',0,0,0),(1,'base','Main Website',0,1,1);
INSERT INTO `store_group` VALUES (0,0,'Default',0,0,'default'),(1,1,'Main',2,1,'main');
INSERT INTO `store` VALUES (0,'admin',0,0,'Admin',0,1),(1,'default',1,1,'Default',0,1);
"""


def _line_of(config_id: int) -> int:
    """The fixture writes core_config_data one row per line, row 1 on line 108."""
    return 107 + config_id


@pytest.fixture(scope="module")
def snapshot() -> DatabaseSnapshot:
    return read_database(str(FIXTURE))


@pytest.fixture(scope="module")
def facts(snapshot: DatabaseSnapshot) -> dict[int, Fact]:
    return {int(f.get("config_id")): f for f in database_facts(snapshot)}


def _dump(tmp_path: Path, sql: str, name: str = "dump.sql") -> DatabaseSnapshot:
    path = tmp_path / name
    path.write_text(sql, "utf-8")
    return read_database(str(path))


def _values(snapshot: DatabaseSnapshot) -> dict[str, str | None]:
    return {f"{r.scope}:{r.scope_id}:{r.path}": r.value for r in snapshot.rows}


# --- the dump tokenizer ----------------------------------------------------------------


def test_dump_rows_keep_escaped_and_doubled_quotes_backslashes_and_newlines(
    snapshot: DatabaseSnapshot,
) -> None:
    rows = {r.config_id: r for r in snapshot.rows}
    assert rows[3].value == "Lumen Outdoor 'EU' & \"Friends\""
    assert rows[4].value == "Lumen Outdoor Deutschland: It's \\ all\nhere"
    assert rows[29].value == (
        "-----BEGIN PRIVATE KEY-----\n"
        "MIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEA0T3stOnly\n"
        "-----END PRIVATE KEY-----"
    )


def test_dump_null_is_none_and_not_the_text_null(snapshot: DatabaseSnapshot) -> None:
    rows = {r.config_id: r for r in snapshot.rows}
    assert rows[5] == ConfigRow(
        5, "default", 0, "design/head/default_description", None, _line_of(5)
    )


def test_multi_row_insert_gives_each_row_the_line_it_starts_on(snapshot: DatabaseSnapshot) -> None:
    assert len(snapshot.rows) == 34
    assert [r.config_id for r in snapshot.rows] == list(range(1, 35))
    assert [r.line for r in snapshot.rows] == [_line_of(i) for i in range(1, 35)]
    assert snapshot.rows[0] == ConfigRow(
        1, "default", 0, "web/unsecure/base_url", "http://lumen-outdoor.test/", 108
    )


def test_rows_on_one_line_all_get_that_line(tmp_path: Path) -> None:
    snap = _dump(
        tmp_path,
        "-- one line\nINSERT INTO `core_config_data` VALUES "
        "(1,'default',0,'a/b/c','x','2025-01-01 00:00:00'),"
        "(2,'stores',1,'a/b/d','y','2025-01-01 00:00:00');\n",
    )
    assert [(r.config_id, r.line) for r in snap.rows] == [(1, 2), (2, 2)]


def test_insert_without_column_list_follows_the_dumps_create_table(tmp_path: Path) -> None:
    snap = _dump(
        tmp_path,
        "CREATE TABLE `core_config_data` (\n"
        "  `path` varchar(255) NOT NULL DEFAULT 'general',\n"
        "  `value` text DEFAULT NULL,\n"
        "  `config_id` int(10) unsigned NOT NULL AUTO_INCREMENT,\n"
        "  `scope_id` int(11) NOT NULL DEFAULT 0,\n"
        "  `scope` varchar(8) NOT NULL DEFAULT 'default',\n"
        "  PRIMARY KEY (`config_id`),\n"
        "  UNIQUE KEY `CORE_CONFIG_DATA_SCOPE_SCOPE_ID_PATH` (`scope`,`scope_id`,`path`)\n"
        ") ENGINE=InnoDB;\n"
        "INSERT INTO `core_config_data` VALUES ('lumen_ai/general/enabled','1',7,2,'websites');\n",
    )
    assert snap.rows == (ConfigRow(7, "websites", 2, "lumen_ai/general/enabled", "1", 10),)


def test_insert_without_column_list_or_create_table_uses_magentos_column_order(
    tmp_path: Path,
) -> None:
    snap = _dump(
        tmp_path,
        "INSERT INTO `core_config_data` VALUES (3,'stores',1,'x/y/z','v','2025-01-01 00:00:00');\n",
    )
    assert snap.rows == (ConfigRow(3, "stores", 1, "x/y/z", "v", 1),)


def test_gzipped_dump_reads_like_the_plain_one(tmp_path: Path, snapshot: DatabaseSnapshot) -> None:
    path = tmp_path / "magento.sql.gz"
    path.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    snap = read_database(str(path))
    assert snap.rows == snapshot.rows
    assert snap.tenants == snapshot.tenants
    assert snap.source == str(path)


def test_statements_of_other_tables_are_skipped_even_when_strings_look_like_sql(
    tmp_path: Path,
) -> None:
    snap = _dump(
        tmp_path,
        "INSERT INTO `cms_block` VALUES (1,'a;b','it''s \\'quoted\\'; go on\n"
        "INSERT INTO `core_config_data` VALUES (66,''default'',0,''evil/x/y'',''1'',NULL);\n"
        "still the string'),(2,'\"; DROP','x');\n"
        "INSERT INTO `cms_page_store` VALUES (1,0),(2,1);\n"
        "/* a comment; with INSERT INTO `core_config_data` VALUES (77) */\n"
        "# a comment; INSERT INTO `core_config_data` VALUES (88)\n"
        "INSERT INTO `core_config_data` (`config_id`,`scope`,`scope_id`,`path`,`value`) "
        "VALUES (1,'default',0,'ok/x/y','semi;colon');\n" + STORE_TABLES,
    )
    assert snap.rows == (ConfigRow(1, "default", 0, "ok/x/y", "semi;colon", 7),)
    assert [t.code for t in snap.tenants] == ["base", "default"]


def test_hex_binary_booleans_and_functions_are_values(tmp_path: Path) -> None:
    snap = _dump(
        tmp_path,
        "INSERT IGNORE INTO `magento`.`core_config_data` (`config_id`,`scope`,`scope_id`,"
        "`path`,`value`,`updated_at`) VALUES (1,'default',0,'a/b/hex',0x68692D6865,NOW()),"
        "(2,'default',0,'a/b/bin',_binary 'raw',CURRENT_TIMESTAMP),"
        "(3,'default',0,'a/b/bool',TRUE,'2025-01-01'),(4,'default',-1,'a/b/neg',-1.5e3,'x');\n",
    )
    assert [(r.scope_id, r.value) for r in snap.rows] == [
        (0, "hi-he"),
        (0, "raw"),
        (0, "1"),
        (-1, "-1.5e3"),
    ]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_any_value_escaped_as_mysqldump_does_parses_back_unchanged(value: str) -> None:
    doubled = value.replace("\\", "\\\\").replace("'", "''")  # the other quoting style
    sql = (
        "INSERT INTO `core_config_data` VALUES "
        f"(1,'default',0,'a/b/c','{escape_string(value)}','2025-01-01 00:00:00'),"
        f"(2,'default',0,'a/b/d','{doubled}',NULL);\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dump.sql"
        path.write_text(sql, "utf-8", newline="")
        snap = read_database(str(path))
    assert [r.value for r in snap.rows] == [value, value]


def test_table_prefix_of_a_dump_is_found_from_its_core_config_data(tmp_path: Path) -> None:
    text = FIXTURE.read_text("utf-8")
    for table in ("store_website", "store_group", "store", "core_config_data"):
        text = text.replace(f"`{table}`", f"`mg_{table}`")
    snap = _dump(tmp_path, text)
    assert len(snap.rows) == 34
    assert [t.code for t in snap.tenants] == ["base", "eu", "default", "eu_en", "eu_de"]


def test_dump_errors_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match=r"^cannot read SQL dump .*missing\.sql: No such file"):
        read_database(str(tmp_path / "missing.sql"))
    with pytest.raises(DatabaseError, match=r"dump\.sql: no core_config_data table in this dump"):
        _dump(tmp_path, STORE_TABLES)
    with pytest.raises(DatabaseError, match=r"dump\.sql:2: the statement never ends"):
        _dump(tmp_path, "--\nINSERT INTO `core_config_data` VALUES (1,'default',0,'a/b',\n'x")
    with pytest.raises(DatabaseError, match=r"dump\.sql:1: 3 values for 6 columns"):
        _dump(tmp_path, "INSERT INTO `core_config_data` VALUES (1,'default',0);")
    with pytest.raises(DatabaseError, match=r"dump\.sql:1: config_id is not a number"):
        _dump(tmp_path, "INSERT INTO `core_config_data` VALUES ('x','default',0,'a','b',NULL);")


# --- tenants ---------------------------------------------------------------------------


def test_websites_and_store_views_are_tenants_and_admin_is_not(snapshot: DatabaseSnapshot) -> None:
    assert snapshot.tenants == (
        Tenant("websites", 1, "base", "Main Website", is_default=True),
        Tenant("websites", 2, "eu", "Europe"),
        Tenant("stores", 1, "default", "Default Store View", "base"),
        Tenant("stores", 2, "eu_en", "Europe English", "eu"),
        Tenant("stores", 3, "eu_de", "Europe Deutsch", "eu"),
    )


def test_scopes_map_to_tenant_codes(snapshot: DatabaseSnapshot) -> None:
    assert snapshot.tenant_code("default", 0) == "default"
    assert snapshot.tenant_code("websites", 2) == "eu"
    assert snapshot.tenant_code("stores", 3) == "eu_de"
    assert snapshot.tenant_code("stores", 1) == "default"
    assert snapshot.tenant_code("stores", 99) is None  # a deleted store's leftover row
    assert snapshot.tenant_code("websites", 0) is None  # admin
    assert snapshot.tenant("stores", 2) == Tenant("stores", 2, "eu_en", "Europe English", "eu")


def test_config_values_carry_their_dump_line_scope_and_tenant(snapshot: DatabaseSnapshot) -> None:
    values = {v.source: v for v in config_values(snapshot)}
    assert len(values) == 33  # every row but the NULL one
    assert values[f"{FIXTURE}:{_line_of(13)}"] == ConfigValue(
        "lumen_ai/anthropic/endpoint",
        "https://api.anthropic.com",
        f"{FIXTURE}:{_line_of(13)}",
        "stores",
        "eu_de",
    )
    assert values[f"{FIXTURE}:{_line_of(7)}"].scope_code == "default"
    assert values[f"{FIXTURE}:{_line_of(9)}"].scope_code == "eu"


def test_sample_store_dump_attributes_default_website_and_store_rows() -> None:
    if not SAMPLE_STORE_DUMP.exists():
        pytest.skip("tests/fixtures/magento-db.sql is not there yet")
    snap = read_database(str(SAMPLE_STORE_DUMP))
    codes = {(t.scope, t.scope_id): t.code for t in snap.tenants}
    by_scope: dict[str, list[ConfigRow]] = {}
    for row in snap.rows:
        by_scope.setdefault(row.scope, []).append(row)
    assert set(by_scope) == {"default", "websites", "stores"}
    for row in snap.rows:
        expected = "default" if row.scope == "default" else codes[(row.scope, row.scope_id)]
        assert snap.tenant_code(row.scope, row.scope_id) == expected
    facts = database_facts(snap)
    assert {f.get("scope") for f in facts} == {"default", "websites", "stores"}
    assert all(f.tenant for f in facts)


# --- facts -----------------------------------------------------------------------------


def test_ai_endpoint_is_a_config_value_fact_of_its_provider_and_tenant(
    facts: dict[int, Fact],
) -> None:
    assert facts[13] == Fact(
        kind="config_value",
        path=str(FIXTURE),
        line=_line_of(13),
        column=1,
        matched="stores:3:lumen_ai/anthropic/endpoint",
        language="db",
        destination="ai_provider",
        provider="anthropic",
        host="api.anthropic.com",
        tenant="eu_de",
        detail=(
            ("config_path", "lumen_ai/anthropic/endpoint"),
            ("scope", "stores"),
            ("scope_code", "eu_de"),
            (
                "evidence",
                "lumen_ai/anthropic/endpoint = https://api.anthropic.com at store view eu_de",
            ),
            ("config_id", "13"),
        ),
    )
    assert (facts[7].provider, facts[7].host, facts[7].tenant) == (
        "openai",
        "api.openai.com",
        "default",
    )
    assert (facts[21].destination, facts[21].provider) == ("vector_db", "pinecone")


def test_endpoint_evidence_drops_the_query_string(facts: dict[int, Fact]) -> None:
    assert facts[18].destination == "ai_saas"
    assert facts[18].get("evidence") == (
        "lumen_fraudshield/api/endpoint = "
        "https://api.seon.io/SeonRestService/fraud-api/v2?**** at default scope"
    )


def test_non_ai_urls_give_no_endpoint_fact(facts: dict[int, Fact]) -> None:
    # the storefront, the sovereign gateway, Google Maps
    assert {1, 15, 27}.isdisjoint(facts)


def test_plaintext_catalog_key_is_a_secret_fact_with_masked_evidence(
    facts: dict[int, Fact],
) -> None:
    fact = facts[9]
    assert (fact.kind, fact.conditions, fact.provider, fact.tenant, fact.line) == (
        "secret",
        frozenset({"plaintext", "not_services_connector"}),
        "openai",
        "eu",
        _line_of(9),
    )
    assert fact.matched == "websites:2:lumen_ai/openai/api_key"
    assert fact.get("evidence") == "lumen_ai/openai/api_key = sk-proj-T3**** at website eu"
    assert fact.get("key_type") == "openai-api-key"
    assert fact.secret is None


def test_encrypted_ai_keys_give_no_fact(facts: dict[int, Fact]) -> None:
    assert 8 not in facts  # lumen_ai/openai/api_key 0:3:...
    assert 22 not in facts  # lumen_assistant_index/pinecone/api_key 0:3:...
    assert is_encrypted("0:3:q7AbTq3EjcV1Y3Rvf0wV2k9hKx3mRkQfZ9lq0Jv3hN8xVnq2bB8wLr1S")
    assert is_encrypted("1:2:aXY=:Y2lwaGVy")
    assert not is_encrypted(OPENAI_KEY)


def test_credential_field_of_an_ai_section_is_a_plaintext_secret(facts: dict[int, Fact]) -> None:
    found = {
        cid: (facts[cid].provider, facts[cid].tenant, facts[cid].get("evidence"))
        for cid in (14, 20, 31)
    }
    assert found == {
        # named by its path and in a section with an Anthropic endpoint
        14: ("anthropic", "eu_de", "lumen_ai/anthropic/api_key = T3**** at store view eu_de"),
        # the section's endpoint is SEON's
        20: ("seon", "base", "lumen_fraudshield/api/api_key = T3**** at website base"),
        # the path names Gemini, no endpoint anywhere
        31: ("google_gemini", "base", "lumen_copywriter/gemini/api_key = T3**** at website base"),
    }
    assert all(facts[c].conditions == {"plaintext", "not_services_connector"} for c in found)


def test_credential_fields_outside_ai_sections_are_no_secrets(facts: dict[int, Fact]) -> None:
    assert 17 not in facts  # lumen_aigateway/general/api_key: the gateway's own key
    assert 26 not in facts  # payment/braintree/private_key


def test_desk_lamp_and_other_sk_words_are_never_keys(tmp_path: Path) -> None:
    snap = _dump(
        tmp_path,
        "INSERT INTO `core_config_data` VALUES "
        "(1,'default',0,'lumen_ai/openai/endpoint','https://api.openai.com/v1',NULL),"
        "(2,'default',0,'lumen_ai/openai/featured_sku','desk-lamp',NULL),"
        "(3,'default',0,'lumen_ai/openai/prompt_hint','desk-lamp-sku-001 task-runner-00000000"
        "000000000000000000000000 risk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',NULL),"
        "(4,'default',0,'carriers/lumenfreight/oversize_skus','desk-lamp-sku-001',NULL);\n",
    )
    assert [f.get("config_path") for f in database_facts(snap)] == ["lumen_ai/openai/endpoint"]


def test_google_api_key_counts_only_in_an_ai_section(tmp_path: Path) -> None:
    key = "AIzaSyFAKE0EXAMPLE1key2NOT3real4Zq8Lm2X"
    snap = _dump(
        tmp_path,
        "INSERT INTO `core_config_data` VALUES "
        f"(1,'default',0,'lumen_storelocator/api/key','{key}',NULL),"
        f"(2,'default',0,'lumen_copywriter/gemini/key','{key}',NULL);\n",
    )
    [fact] = database_facts(snap)
    assert (fact.get("config_path"), fact.provider, fact.get("key_type")) == (
        "lumen_copywriter/gemini/key",
        "google_gemini",
        "google-api-key",
    )
    assert fact.get("evidence") == "lumen_copywriter/gemini/key = AIzaSy**** at default scope"


def test_enabled_toggles_of_ai_sections_are_feature_enabled_facts(facts: dict[int, Fact]) -> None:
    enabled = {
        cid: (f.get("config_path"), f.tenant, f.provider)
        for cid, f in facts.items()
        if f.conditions == {"enabled"}
    }
    assert enabled == {
        6: ("lumen_ai/general/enabled", "default", "openai"),
        19: ("lumen_fraudshield/general/enabled", "default", "seon"),
        23: ("lumen_assistant_index/general/is_enabled", "default", "pinecone"),
        32: ("lumen_copywriter/gemini/enabled", "default", "google_gemini"),
        33: ("lumen_ai/general/enabled", None, "openai"),  # store 99 no longer exists
    }
    assert facts[32].get("evidence") == "lumen_copywriter/gemini/enabled = 1 at store view default"
    assert facts[33].get("evidence") == "lumen_ai/general/enabled = 1 at store view id 99"
    # switched off; a non-AI section; the gateway; a carrier
    assert {12, 16, 25, 34}.isdisjoint(facts)


def test_sections_the_code_scan_knows_as_ai_make_their_toggles_count(
    snapshot: DatabaseSnapshot,
) -> None:
    facts = database_facts(snapshot, ai_sections={"lumen_storelocator"})
    [toggle] = [f for f in facts if f.get("config_path") == "lumen_storelocator/general/enabled"]
    assert (toggle.kind, toggle.conditions, toggle.provider) == (
        "config_value",
        frozenset({"enabled"}),
        None,
    )


def test_services_connector_keys_are_facts_encrypted_or_not(facts: dict[int, Fact]) -> None:
    found = {
        cid: (facts[cid].kind, facts[cid].conditions, facts[cid].get("evidence"))
        for cid in (28, 29, 30)
    }
    path = "services_connector/services_connector_integration"
    assert found == {
        28: (
            "secret",
            frozenset({"services_connector", "encrypted"}),
            f"{path}/production_api_key = <encrypted> at default scope",
        ),
        29: (
            "secret",
            frozenset({"services_connector"}),
            f"{path}/production_private_key = --**** at default scope",
        ),
        30: (
            "config_value",
            frozenset({"services_connector"}),
            "services_connector/services_id/environment_id = "
            "b2a4c0de-7e57-4d1e-9a11-000000000001 at default scope",
        ),
    }
    assert {facts[c].provider for c in found} == {"adobe_commerce_saas"}


def test_every_fact_and_nothing_else(facts: dict[int, Fact]) -> None:
    assert sorted(facts) == [6, 7, 9, 13, 14, 18, 19, 20, 21, 23, 28, 29, 30, 31, 32, 33]


def test_no_fact_holds_a_raw_secret_and_identity_is_scope_and_path(
    facts: dict[int, Fact],
) -> None:
    text = json.dumps([f.to_json() for f in facts.values()])
    assert [s for s in RAW_SECRETS if s in text] == []
    assert all(
        re.fullmatch(r"(default|websites|stores):\d+:[\w/]+", f.matched) for f in facts.values()
    )


# --- DSNs and the live database --------------------------------------------------------


def test_mask_dsn_hides_the_password_even_when_the_dsn_is_malformed() -> None:
    assert (
        mask_dsn("mysql://magento:S3cret@db:3306/magento") == "mysql://magento:***@db:3306/magento"
    )
    assert mask_dsn("mysql://magento:p@ss/w?rd#@db/magento") == "mysql://magento:***@db/magento"
    assert mask_dsn("mysql://magento@db/magento") == "mysql://magento@db/magento"
    assert mask_dsn("/var/backups/magento.sql") == "/var/backups/magento.sql"


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("postgres://u:S3cret@h/db", "unsupported DSN postgres://u:***@h/db"),
        ("mysql://u:S3cr/et@h/db", "invalid DSN mysql://u:***@h/db: percent-encode the password"),
        ("mysql://u:S3cret@h:port/db", "invalid DSN mysql://u:***@h:port/db: bad port"),
        ("mysql://u:S3cret@h/db?prefx=mg_", "invalid DSN mysql://u:***@h/db?prefx=mg_: expected"),
        ("mysql://u:S3cret@h:3306", "invalid DSN mysql://u:***@h:3306: expected"),
    ],
)
def test_bad_dsns_are_clear_errors_without_the_password(dsn: str, message: str) -> None:
    with pytest.raises(DatabaseError) as caught:
        read_database(dsn)
    assert str(caught.value).startswith(message)
    assert "S3cr" not in str(caught.value)


def test_a_dsn_that_does_not_connect_names_the_server_but_not_the_password() -> None:
    with pytest.raises(DatabaseError) as caught:
        read_database("mysql://magento:S3cret%21pw@127.0.0.1:1/magento")
    message = str(caught.value)
    assert message.startswith("cannot connect to mysql://magento:***@127.0.0.1:1/magento: ")
    assert "Can't connect" in message
    assert "S3cret" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_require_mariadb_skips_when_the_server_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAGEGUARD_TEST_MARIADB_PORT", "1")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"MariaDB is not reachable at 127\.0\.0\.1:1 "):
        require_mariadb()


def test_require_mariadb_fails_under_ci_when_the_server_is_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAGEGUARD_TEST_MARIADB_PORT", "1")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: a missing service fails the run"):
        require_mariadb()


def _without_place(fact: Fact) -> Fact:
    return replace(fact, path="", line=0)


@pytest.mark.mariadb
def test_live_database_gives_the_same_rows_tenants_and_facts_as_its_dump(
    mariadb: MariaDB, mariadb_database: str, snapshot: DatabaseSnapshot
) -> None:
    mariadb.load(mariadb_database, FIXTURE.read_text("utf-8"))
    live = read_database(mariadb.dsn(mariadb_database, scheme="mariadb"))
    assert live.source == f"mariadb://root@{mariadb.host}:{mariadb.port}/{mariadb_database}"
    assert live.tenants == snapshot.tenants
    # MariaDB's own parser agrees with ours on every value
    assert live.rows == tuple(replace(r, line=None) for r in snapshot.rows)
    live_facts = database_facts(live)
    assert [_without_place(f) for f in live_facts] == [
        _without_place(f) for f in database_facts(snapshot)
    ]
    first = live_facts[0]
    assert (first.path, first.line) == (
        f"db://{mariadb.host}/{mariadb_database}/core_config_data/6",
        1,
    )
    assert config_values(live)[0].source == "db://core_config_data/1"


@pytest.mark.mariadb
def test_live_table_prefix_comes_from_the_dsn(mariadb: MariaDB, mariadb_database: str) -> None:
    text = FIXTURE.read_text("utf-8")
    for table in ("store_website", "store_group", "store", "core_config_data"):
        text = text.replace(f"`{table}`", f"`mg_{table}`")
    mariadb.load(mariadb_database, text)
    live = read_database(mariadb.dsn(mariadb_database) + "?prefix=mg_")
    assert len(live.rows) == 34
    assert [t.code for t in live.tenants] == ["base", "eu", "default", "eu_en", "eu_de"]
    assert live.source.endswith(f"/{mariadb_database}?prefix=mg_")


@pytest.mark.mariadb
def test_live_database_without_magento_tables_is_a_clear_error(
    mariadb: MariaDB, mariadb_database: str
) -> None:
    with pytest.raises(DatabaseError) as caught:
        read_database(mariadb.dsn(mariadb_database))
    assert str(caught.value) == (
        f"cannot read core_config_data from mysql://root@{mariadb.host}:{mariadb.port}/"
        f"{mariadb_database}: Table '{mariadb_database}.core_config_data' doesn't exist"
    )


@pytest.mark.mariadb
def test_live_wrong_password_is_refused_without_showing_it(
    mariadb: MariaDB, mariadb_database: str
) -> None:
    user = f"mg_{mariadb_database[-8:]}"
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'right-Pw-1'")
    try:
        with pytest.raises(DatabaseError) as caught:
            read_database(f"mysql://{user}:Wr0ng-Pw-9@{mariadb.host}:{mariadb.port}/x")
    finally:
        with mariadb.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP USER '{user}'@'%'")
    message = str(caught.value)
    assert message.startswith(
        f"cannot connect to mysql://{user}:***@{mariadb.host}:{mariadb.port}/x: Access denied"
    )
    assert "Wr0ng" not in message


@pytest.mark.mariadb
def test_live_reading_only_selects_in_a_read_only_session(
    mariadb: MariaDB, mariadb_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    mariadb.load(mariadb_database, FIXTURE.read_text("utf-8"))
    executed: list[str] = []
    execute = pymysql.cursors.Cursor.execute

    def recording(self: pymysql.cursors.Cursor, query: str, args: object = None) -> int:
        executed.append(query)
        return execute(self, query, args)

    monkeypatch.setattr(pymysql.cursors.Cursor, "execute", recording)
    read_database(mariadb.dsn(mariadb_database))
    assert executed == [
        "SET SESSION TRANSACTION READ ONLY",
        "SELECT * FROM `store_website`",
        "SELECT * FROM `store_group`",
        "SELECT * FROM `store`",
        "SELECT * FROM `core_config_data`",
    ]
