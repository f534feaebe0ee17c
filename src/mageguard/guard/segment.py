"""Cut a text into the segments the model scores.

An indirect injection is usually one instruction inside otherwise benign external content
(a review, an e-mail, a table row); scored as a whole document its signal is diluted by
the content around it. So the text is cut into lines and lines into sentences (a
sentence shorter than MIN_SENTENCE_CHARS is joined to the next one on its line, so
"Ok." is not a unit of its own); a sentence longer than MAX_SEGMENT_CHARS is cut into
windows at whitespace. Each segment is scored alone and the document takes the maximum
(see `injection.py`). The number of segments is capped by merging neighbours, so the
cost stays linear in the text and bounded per character.
"""

from __future__ import annotations

import re

MAX_SEGMENT_CHARS = 400  # a sentence longer than this is cut into windows
MIN_SENTENCE_CHARS = 24  # a shorter sentence is joined to the next one on its line
MAX_SEGMENTS = 64  # more segments are merged pairwise until they fit
_LINE = re.compile(r"[^\r\n]+")
# A sentence ends at . ! ? … (and CJK full stops) followed by whitespace, or at the end.
# Possessive: the loop only stops before a terminator or at the end, where the tail always
# matches, so it never backtracks; `++` takes runs of ordinary characters in one step.
_SENTENCE = re.compile(r"\S(?:[^.!?…。！？]++|[.!?…](?=\S))*+(?:[.!?…。！？]+|$)")

Span = tuple[int, int]


def _windows(start: int, end: int, text: str) -> list[Span]:
    """Cut [start, end) into pieces of at most MAX_SEGMENT_CHARS at whitespace."""
    out: list[Span] = []
    while end - start > MAX_SEGMENT_CHARS:
        cut = text.rfind(" ", start + MAX_SEGMENT_CHARS // 2, start + MAX_SEGMENT_CHARS)
        if cut <= start:
            cut = start + MAX_SEGMENT_CHARS
        out.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        out.append((start, end))
    return out


def segments(text: str) -> list[Span]:
    """[start, end) spans of `text`'s segments, in order, without blank ones."""
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        s, e = line.span()
        pending: Span | None = None  # a sentence too short to stand alone
        for sent in _SENTENCE.finditer(text, s, e):
            ss, se = sent.span()
            if pending is not None:
                ss = pending[0]
                pending = None
            if se - ss < MIN_SENTENCE_CHARS:
                pending = (ss, se)
                continue
            if se - ss > MAX_SEGMENT_CHARS:
                spans.extend(_windows(ss, se, text))
            else:
                spans.append((ss, se))
        if pending is not None:
            if spans and spans[-1][0] >= s:  # glue a short tail to its line's last sentence
                spans[-1] = (spans[-1][0], pending[1])
            else:
                spans.append(pending)
    while len(spans) > MAX_SEGMENTS:
        merged = [(spans[i][0], spans[i + 1][1]) for i in range(0, len(spans) - 1, 2)]
        if len(spans) % 2:
            merged.append(spans[-1])
        spans = merged
    return spans
