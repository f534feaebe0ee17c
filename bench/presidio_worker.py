"""Run Presidio's analyzer over JSON lines {id, text} from stdin; write {id, spans, seconds}.

Runs inside bench/work/.venv-presidio (bench/setup_presidio.sh). No spaCy model can be
installed offline, so the NLP engine is an empty stand-in: Presidio's pattern
recognizers run as shipped, its NER-based recognizers (PERSON, LOCATION...) find nothing.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine

logging.disable(logging.CRITICAL)  # tldextract logs its failed (offline) suffix-list fetch


class NoNlp(NlpEngine):  # type: ignore[misc]
    def load(self) -> None:
        pass

    def is_loaded(self) -> bool:
        return True

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return NlpArtifacts(
            entities=[], tokens=[], tokens_indices=[], lemmas=[], nlp_engine=self, language=language
        )

    def process_batch(self, texts, language, batch_size=1, n_process=1, **kwargs):  # type: ignore[no-untyped-def]
        for text in texts:
            yield text, self.process_text(text, language)

    def is_stopword(self, word: str, language: str) -> bool:
        return False

    def is_punct(self, word: str, language: str) -> bool:
        return False

    def get_supported_entities(self) -> list[str]:
        return []

    def get_supported_languages(self) -> list[str]:
        return ["en"]


def main() -> None:
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    engine = AnalyzerEngine(registry=registry, nlp_engine=NoNlp(), supported_languages=["en"])
    engine.analyze("warm up 4111 1111 1111 1111 a@b.co", language="en")
    for line in sys.stdin:
        row = json.loads(line)
        started = time.perf_counter()
        results = engine.analyze(row["text"], language="en")
        seconds = time.perf_counter() - started
        spans = [
            {"start": r.start, "end": r.end, "entity": r.entity_type, "score": r.score}
            for r in results
        ]
        sys.stdout.write(json.dumps({"id": row["id"], "spans": spans, "seconds": seconds}) + "\n")


if __name__ == "__main__":
    main()
