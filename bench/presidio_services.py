#!/usr/bin/env python3
"""Stand-ins for Presidio's analyzer and anonymizer REST services (the Docker images
LiteLLM's Presidio guardrail calls), serving both on one port:

    POST /analyze    {text, language, entities?, score_threshold?, ...} -> [RecognizerResult]
    POST /anonymize  {text, analyzer_results, anonymizers?}               -> {text, items}
    GET  /health

The same library calls as the images' app.py (AnalyzerEngine.analyze,
AnonymizerEngine.anonymize) on aiohttp instead of Flask. The images bundle spaCy's
en_core_web_lg, which cannot be fetched here, so the analyzer runs Presidio's pattern
recognizers with the empty NLP engine of presidio_worker.py: its NER-based entities
(PERSON, LOCATION...) are never found, and each request costs less than with the model.

Runs inside bench/work/litellm-venv (`bench/setup_litellm.sh --presidio`):

    bench/work/litellm-venv/bin/python bench/presidio_services.py --port 8105
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult
from presidio_worker import NoNlp

logging.disable(logging.CRITICAL)  # tldextract logs its failed (offline) suffix-list fetch

ANALYZER = web.AppKey("analyzer", AnalyzerEngine)
ANONYMIZER = web.AppKey("anonymizer", AnonymizerEngine)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json")


async def analyze(request: web.Request) -> web.Response:
    body = await request.json()
    text, language = body.get("text"), body.get("language") or "en"
    if not text:
        return _json({"error": "No text provided"}, 500)
    results = request.app[ANALYZER].analyze(
        text=text,
        language=language,
        entities=body.get("entities"),
        score_threshold=body.get("score_threshold"),
        correlation_id=body.get("correlation_id"),
        return_decision_process=bool(body.get("return_decision_process")),
        context=body.get("context"),
        allow_list=body.get("allow_list"),
    )
    out = []
    for r in results:
        item = r.to_dict()
        item.pop("recognition_metadata", None)  # as the image's app.py does
        out.append(item)
    return _json(out)


async def anonymize(request: web.Request) -> web.Response:
    body = await request.json()
    results = [
        RecognizerResult(r["entity_type"], r["start"], r["end"], r["score"])
        for r in body.get("analyzer_results") or []
    ]
    operators = {
        entity: OperatorConfig.from_json(config)
        for entity, config in (body.get("anonymizers") or {}).items()
    }
    result = request.app[ANONYMIZER].anonymize(
        text=body.get("text", ""), analyzer_results=results, operators=operators or None
    )
    return web.Response(text=result.to_json(), content_type="application/json")


async def health(_: web.Request) -> web.Response:
    return web.Response(text="Presidio service is up")


def make_app() -> web.Application:
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    engine = AnalyzerEngine(registry=registry, nlp_engine=NoNlp(), supported_languages=["en"])
    engine.analyze("warm up 4111 1111 1111 1111 a@b.co", language="en")
    app = web.Application(client_max_size=8 << 20)
    app[ANALYZER] = engine
    app[ANONYMIZER] = AnonymizerEngine()
    app.router.add_post("/analyze", analyze)
    app.router.add_post("/anonymize", anonymize)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8105)
    args = parser.parse_args()
    try:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    web.run_app(make_app(), host=args.host, port=args.port, access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
