"""The proprietary dictionary from the store's own database: SKUs and product names
(catalog_product_entity + the EAV `name`), cost prices (the EAV `cost`), supplier
attributes when the store has them, and its customers' names and e-mails."""

from __future__ import annotations

from typing import Any

from mageguard.errors import DatabaseError
from mageguard.magento_db import connect, parse_dsn
from mageguard.redact.dictionary import Dictionary

_EAV = """
SELECT v.value FROM {prefix}catalog_product_entity_{kind} v
JOIN {prefix}eav_attribute a ON a.attribute_id = v.attribute_id
JOIN {prefix}eav_entity_type t ON t.entity_type_id = a.entity_type_id
WHERE t.entity_type_code = 'catalog_product' AND a.attribute_code IN ({codes})
"""
SUPPLIER_ATTRIBUTES = ("supplier", "supplier_name", "supplier_account", "vendor")


def load_dictionary(dsn: str) -> Dictionary:
    """Read a tenant dictionary from a live Magento database (mysql://...)."""
    parts = parse_dsn(dsn)
    prefix = parts.prefix
    conn = connect(parts)
    rows: list[tuple[str, str]] = []
    costs: list[str] = []
    try:
        with conn.cursor() as cur:
            rows += [
                ("SKU", r[0])
                for r in _query(cur, f"SELECT sku FROM {prefix}catalog_product_entity")
            ]
            rows += [
                ("PRODUCT", r[0])
                for r in _query(cur, _EAV.format(prefix=prefix, kind="varchar", codes="'name'"))
            ]
            rows += [
                ("SUPPLIER", r[0])
                for r in _query(
                    cur,
                    _EAV.format(
                        prefix=prefix,
                        kind="varchar",
                        codes=", ".join(f"'{c}'" for c in SUPPLIER_ATTRIBUTES),
                    ),
                )
            ]
            costs += [
                str(r[0])
                for r in _query(cur, _EAV.format(prefix=prefix, kind="decimal", codes="'cost'"))
                if r[0] is not None
            ]
            for first, last, email in _query(
                cur, f"SELECT firstname, lastname, email FROM {prefix}customer_entity"
            ):
                if first and last:
                    rows.append(("PERSON", f"{first} {last}"))
                if email:
                    rows.append(("EMAIL", email))
    finally:
        conn.close()
    return Dictionary.from_rows([(e, v) for e, v in rows if v], costs, name="magento")


def _query(cur: Any, sql: str) -> list[tuple[Any, ...]]:
    import pymysql

    try:
        cur.execute(sql)
        return list(cur.fetchall())
    except pymysql.MySQLError as exc:
        if exc.args and exc.args[0] == 1146:  # table does not exist: a store without it
            return []
        raise DatabaseError(f"dictionary query failed: {exc.args[-1]}") from None
