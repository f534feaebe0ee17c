"""The catalog turned into lookup tables for the interpreter (lower-cased class names,
methods by name), built once per process."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mageguard.catalog import Catalog, Sdk, load_catalog


@dataclass(frozen=True)
class HttpSpec:
    client: str
    constructor: Mapping[str, int]
    methods: Mapping[str, Mapping[str, Any]]
    request_object: bool = False
    any_method_sends: bool = False


@dataclass(frozen=True)
class SourceSpec:
    """What values obtained from a Magento type carry (data_sources.yaml)."""

    categories: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    item: str | None = None
    methods: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Knowledge:
    catalog: Catalog
    http: Mapping[str, HttpSpec]
    http_functions: Mapping[str, Mapping[str, Any]]
    sdk_exact: Mapping[str, Sdk]
    sdk_prefix: tuple[tuple[str, Sdk], ...]
    sdk_constructors: Mapping[str, Sdk]
    logger_classes: frozenset[str]
    logger_methods: Mapping[str, int]
    logger_functions: Mapping[str, int]
    handler_bases: frozenset[str]
    discard_handlers: frozenset[str]
    monolog_classes: frozenset[str]
    writer_functions: Mapping[str, int]
    writer_methods: Mapping[str, tuple[Mapping[str, int], bool]]
    config_methods: Mapping[str, tuple[Mapping[str, int], str]]
    config_functions: Mapping[str, tuple[int, str]]
    sources: Mapping[str, SourceSpec]
    any_receiver: Mapping[str, Mapping[str, Any]]
    attributes: Mapping[str, str]
    validator_methods: frozenset[str]
    validator_prefixes: tuple[str, ...]
    vector_paths: tuple[str, ...]
    vector_keys: frozenset[str]
    vector_methods: frozenset[str]
    curl_options: Mapping[str, str]
    option_keys: Mapping[str, tuple[str, ...]]
    stream_option_keys: Mapping[str, tuple[str, ...]]
    base_props: Mapping[str, Mapping[str, str]]
    base_methods: Mapping[str, Mapping[str, str]]
    metadata_methods: frozenset[str]
    training_paths: tuple[str, ...]

    def sdk_for(self, type_lower: str) -> Sdk | None:
        found = self.sdk_exact.get(type_lower)
        if found is not None:
            return found
        for prefix, sdk in self.sdk_prefix:
            if type_lower.startswith(prefix):
                return sdk
        return None

    def is_validator(self, type_lower: str | None, method_lower: str) -> bool:
        if method_lower in self.validator_methods:
            return True
        return bool(type_lower) and any(
            type_lower.startswith(p)  # type: ignore[union-attr]
            for p in self.validator_prefixes
        )


def _low(names: Any) -> list[str]:
    return [str(n).lower().lstrip("\\") for n in names]


@functools.cache
def knowledge() -> Knowledge:
    cat = load_catalog()
    sinks = cat.sinks
    http: dict[str, HttpSpec] = {}
    for c in sinks["http_clients"]:
        spec = HttpSpec(
            client=c["client"],
            constructor=c.get("constructor", {}),
            methods={k.lower(): v for k, v in c["methods"].items()},
            request_object=bool(c.get("request_object")),
            any_method_sends=bool(c.get("any_method_sends")),
        )
        for cls in _low(c["classes"]):
            http[cls] = spec
    sdk_exact: dict[str, Sdk] = {}
    sdk_prefix: list[tuple[str, Sdk]] = []
    sdk_ctor: dict[str, Sdk] = {}
    for sdk in cat.sdks:
        if sdk.language != "php":
            continue
        for cls in sdk.classes:
            if cls.endswith("\\"):
                sdk_prefix.append((cls.lower(), sdk))
            else:
                sdk_exact[cls.lower()] = sdk
        for ctor in sdk.constructors:
            sdk_ctor[ctor.lower()] = sdk
    loggers = sinks["loggers"]
    writers = sinks["writers"]
    writer_methods: dict[str, tuple[Mapping[str, int], bool]] = {}
    for w in writers["methods"]:
        for cls in _low(w["classes"]):
            writer_methods[cls] = (
                {k.lower(): v for k, v in w["methods"].items()},
                bool(w.get("object_storage")),
            )
    config_methods: dict[str, tuple[Mapping[str, int], str]] = {}
    config_functions: dict[str, tuple[int, str]] = {}
    for r in sinks["config_readers"]:
        if "classes" in r:
            for cls in _low(r["classes"]):
                config_methods[cls] = ({k.lower(): v for k, v in r["methods"].items()}, r["source"])
        for fn, pos in (r.get("functions") or {}).items():
            config_functions[fn.lower()] = (pos, r["source"])
    ds = cat.data_sources
    sources: dict[str, SourceSpec] = {}
    for name, raw in ds["types"].items():
        source = SourceSpec(
            categories=frozenset(raw.get("categories", ())),
            flags=frozenset(raw.get("flags", ())),
            item=raw.get("item"),
            methods={k.lower(): v for k, v in (raw.get("methods") or {}).items()},
        )
        for cls in _low([name, *raw.get("same_as", ())]):
            sources[cls] = source
    base_props: dict[str, Mapping[str, str]] = {}
    base_methods: dict[str, Mapping[str, str]] = {}
    for name, raw in (ds.get("base_classes") or {}).items():
        for cls in _low([name, *raw.get("same_as", ())]):
            base_props[cls] = raw.get("properties") or {}
            base_methods[cls] = {k.lower(): v for k, v in (raw.get("methods") or {}).items()}
    validators = sinks["prompt_validators"]
    vec = sinks["vector_operations"]
    return Knowledge(
        catalog=cat,
        http=http,
        http_functions={k.lower(): v for k, v in sinks["http_functions"].items()},
        sdk_exact=sdk_exact,
        sdk_prefix=tuple(sdk_prefix),
        sdk_constructors=sdk_ctor,
        logger_classes=frozenset(_low(loggers["classes"])),
        logger_methods={k.lower(): v for k, v in loggers["methods"].items()},
        logger_functions={k.lower(): v for k, v in loggers.get("functions", {}).items()},
        handler_bases=frozenset(_low(loggers["handler_base_classes"])),
        discard_handlers=frozenset(_low(loggers.get("discard_handler_classes", []))),
        monolog_classes=frozenset(_low(loggers["monolog_classes"])),
        writer_functions={k.lower(): v for k, v in writers["functions"].items()},
        writer_methods=writer_methods,
        config_methods=config_methods,
        config_functions=config_functions,
        sources=sources,
        any_receiver={k.lower(): v for k, v in ds["any_receiver"].items()},
        attributes=dict(ds["attributes"]),
        validator_methods=frozenset(m.lower() for m in validators["methods"]),
        validator_prefixes=tuple(_low(validators["classes"])),
        vector_paths=tuple(vec["url_paths"]),
        vector_keys=frozenset(vec["payload_keys"]),
        vector_methods=frozenset(m.lower() for m in vec["methods"]),
        curl_options=dict(sinks["curl_options"]),
        option_keys={k: tuple(v) for k, v in sinks["option_keys"].items()},
        stream_option_keys={k: tuple(v) for k, v in sinks["stream_option_keys"].items()},
        base_props=base_props,
        base_methods=base_methods,
        metadata_methods=frozenset(m.lower() for m in sinks["response_metadata_methods"]),
        training_paths=tuple(sinks["training_paths"]),
    )
