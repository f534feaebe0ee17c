"""Facts from a module's XML: log handlers (di.xml), prompt columns (db_schema.xml) and
credential fields without encryption (adminhtml/system.xml)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from mageguard.scan.facts import Fact
from mageguard.scan.php.knowledge import knowledge
from mageguard.scan.wiring import Wiring
from mageguard.scan.xmlfile import Element

PROMPT_COLUMN = re.compile(
    r"^(prompt|prompts|response|responses|completion|completions|messages|ai_prompt|"
    r"ai_response|llm_prompt|llm_response|model_output|model_input|request_payload|"
    r"response_payload|raw_response|raw_request|chat_history|conversation)$|"
    r"(^|_)(prompt|completion)(_(text|body|content|json|payload|data))?$",
    re.I,
)
CREDENTIAL_FIELD = re.compile(
    r"(api[_-]?key|apikey|secret|(?<!max_)token(?!s)|access[_-]?key"
    r"|private[_-]?key|password|credential)",
    re.I,
)
AI_NAME = re.compile(
    r"(prompt|completion|openai|gpt|llm|anthropic|claude|gemini|mistral|cohere|"
    r"huggingface|bedrock|vertex|sagemaker|chat|"
    r"(^|[^a-z])ai([^a-z]|$))",
    re.I,
)
ENCRYPTED_BACKEND = re.compile(r"Encrypted", re.I)


def log_handler_facts(
    wiring: Wiring, rel: str, unit: str, ai_unit: bool, ai_logger_types: Iterable[str]
) -> list[Fact]:
    """Monolog handlers declared in this di.xml that write a file; flagged `ai_data` when a
    logger that received prompts uses them, or their names say they log AI traffic."""
    k = knowledge()
    ai_loggers = {t.lower().lstrip("\\") for t in ai_logger_types}
    facts = []
    for vt in wiring.virtual_types.values():
        if vt.path != rel:
            continue
        base = wiring.resolve_type(vt.base).lower()
        if base not in k.handler_bases or "fileName" not in vt.args:
            continue
        file_name = vt.args["fileName"].value
        conditions = {"in_ai_unit"} if ai_unit else set()
        users = _loggers_using(wiring, vt.name)
        if users & ai_loggers or AI_NAME.search(file_name) or AI_NAME.search(vt.name):
            conditions.add("ai_data")
        facts.append(
            Fact(
                kind="log_handler",
                path=rel,
                line=vt.line,
                column=vt.column,
                matched=f"{vt.name} {file_name}",
                language="xml",
                unit=unit,
                conditions=frozenset(conditions),
                surface="logging",
                detail=(("file", file_name), ("handler", vt.name)),
            )
        )
    return facts


def _loggers_using(wiring: Wiring, handler: str) -> set[str]:
    """Logger virtual types whose `handlers` argument lists this handler, and the types
    those loggers are injected into (so ai_logger_types can name either)."""
    out: set[str] = set()
    key = handler.lower()
    for vt in wiring.virtual_types.values():
        handlers = vt.args.get("handlers")
        if handlers is None:
            continue
        if any(item.value.lower().lstrip("\\") == key for _, item in handlers.items):
            out.add(vt.name.lower())
    return out


def stored_prompt_facts(root: Element, rel: str, unit: str, ai_unit: bool) -> list[Fact]:
    facts = []
    for table in root.iter("table"):
        for column in table.findall("column"):
            name = column.attrs.get("name", "")
            if not PROMPT_COLUMN.search(name):
                continue
            conditions = {"in_ai_unit"} if ai_unit else set()
            if ai_unit or AI_NAME.search(table.attrs.get("name", "")):
                conditions.add("ai_data")
            facts.append(
                Fact(
                    kind="stored_prompt",
                    path=rel,
                    line=column.line,
                    column=column.column,
                    language="xml",
                    unit=unit,
                    matched=f"{table.attrs.get('name', '')}.{name}",
                    conditions=frozenset(conditions),
                    surface="logging",
                    detail=(("table", table.attrs.get("name", "")), ("column", name)),
                )
            )
    return facts


def config_field_facts(root: Element, rel: str, unit: str, ai_unit: bool) -> list[Fact]:
    """system.xml credential fields: Magento stores them in plain text unless the field's
    backend_model is Encrypted (type="obscure" only masks the input box)."""
    facts = []
    for section in root.iter("section"):
        for group in section.iter("group"):
            for fld in group.findall("field"):
                fid = fld.attrs.get("id", "")
                label = fld.child_text("label") or ""
                if not CREDENTIAL_FIELD.search(fid) and not CREDENTIAL_FIELD.search(label):
                    continue
                backend = fld.child_text("backend_model") or ""
                path = f"{section.attrs.get('id', '')}/{group.attrs.get('id', '')}/{fid}"
                named_ai = bool(AI_NAME.search(path) or AI_NAME.search(label))
                conditions = set()
                if ai_unit or named_ai:
                    conditions.add("in_ai_unit")
                if not ENCRYPTED_BACKEND.search(backend):
                    conditions.add("unencrypted_backend")
                facts.append(
                    Fact(
                        kind="config_field",
                        path=rel,
                        line=fld.line,
                        column=fld.column,
                        language="xml",
                        unit=unit,
                        matched=path,
                        conditions=frozenset(conditions),
                        detail=(("config_path", path), ("type", fld.attrs.get("type", ""))),
                    )
                )
    return facts
