"""Person names from cues (honorifics, "my name is", "Dear", "Name:", sign-offs, "for",
"customer") and from a lexicon of given and family names.

No NLP model: a name is a run of capitalised words, and what stands before it decides
how much evidence it needs (see redact/data/person.yaml). The lexicon (~17k names from
Faker's person providers, scripts/build_name_lexicon.py) is read once, lazily, from a
gzip'ed word list shipped with the package.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from mageguard.redact.detectors import data as redact_data
from mageguard.redact.detectors.scanner import Hits, Scanner, Trigger, word_trigger
from mageguard.redact.spans import Span

NAME = "person"
_LEAD = re.compile(r"[ \t]*[,:;.!\-–—]?[ \t]*(?:\r?\n[ \t]*)?")
_CUE_WORDS = re.compile(r"[^\W\d_][\w'’/.]*|[,:;]")
# after a sign-off ("Best", "Thanks") a name stands on its own line or after a comma
_SIGNOFF_LEAD = re.compile(r"[ \t]*(?:[,!.][ \t]*(?:\r?\n[ \t]*)?|\r?\n[ \t]*)")


@dataclass(frozen=True)
class Lexicon:
    given: frozenset[str]
    family: frozenset[str]
    common: frozenset[str]  # ordinary words, lower case: a name only after a cue
    stop: frozenset[str]  # never a name (person.yaml stopwords), lower case

    def known(self, word: str) -> bool:
        first = word.split("-", 1)[0]
        return first in self.given or first in self.family or word in self.family


@functools.cache
def lexicon() -> Lexicon:
    given: set[str] = set()
    family: set[str] = set()
    common: set[str] = set()
    sinks = {"g": given, "f": family, "w": common}
    for line in redact_data.read_gzip_lines("names.txt.gz"):
        kind, _, word = line.partition(" ")
        if kind in sinks and word:
            sinks[kind].add(word)
    stop = frozenset(w.lower() for w in redact_data.load("person")["stopwords"])
    return Lexicon(frozenset(given), frozenset(family), frozenset(common) | stop, stop)


@dataclass(frozen=True)
class PersonConfig:
    triggers: tuple[Trigger, ...]
    weak_cues: frozenset[str]
    weak_cue_ends: frozenset[str]  # the last word of each weak cue
    name_run: re.Pattern[str]
    hyphen_tail: re.Pattern[str]
    particles: frozenset[str]
    window: int
    scores: dict[str, float]


@functools.cache
def load_config() -> PersonConfig:
    doc = redact_data.load("person")
    frag = redact_data.LETTER_FRAGMENTS
    particles = redact_data.alternation(doc["particles"])
    word = f"{frag['U']}(?:['’]{frag['U']})?{frag['L']}+(?:-{frag['U']}{frag['L']}+)*"
    name_run = f"{word}(?:(?:[ ]+{particles}(?![\\w-]))*[ ]+{word}){{0,3}}(?![\\w-])"
    triggers = (
        word_trigger("person:honorific", doc["honorifics"], caseless=False),
        word_trigger("person:strong", doc["strong_cues"]),
        word_trigger("person:signoff", doc["sign_offs"]),
        *_pair_triggers(particles),
    )
    # weak cues are common words ("for", "to"): a trigger on them fired ~20 times per
    # prompt, so the last words before a name pair are looked up instead
    return PersonConfig(
        triggers=triggers,
        weak_cues=frozenset(" ".join(c.lower().split()) for c in doc["weak_cues"]),
        weak_cue_ends=frozenset(c.lower().split()[-1] for c in doc["weak_cues"]),
        name_run=redact_data.compile_regex(name_run, unicode=True, where="person name run"),
        hyphen_tail=_hyphen_tail(particles),
        particles=frozenset(doc["particles"]),
        window=doc["window"],
        scores=dict(doc["scores"]),
    )


def _pair_triggers(particles: str) -> list[Trigger]:
    """A known given name, a space, a capital: where a name pair may start. With the
    names in the database, a product description's Title Case pairs ("Joust Duffle Bag",
    ~20 per 2 KB) no longer wake Python; hyperscan limits an expression's length, so the
    names come in chunks under one key.

    The tail, `(-Xxx)*( particle)* X`, stops at a hyphen: `-X` marks a hyphenated given
    name ("Jean-Pierre"), whose tail `_hyphen_tail` then follows in Python. The run of
    lower-case letters of hyphenated parts made hyperscan build an engine per chunk that
    ran on every prompt (41 us a scan for the phone, address and person triggers
    together, 12 us without it). And `\\b` before the names is spelled out as the character
    class it is in hyperscan (ASCII word characters): with `\\b`, these expressions took
    30 s to compile instead of 1 s. Both give the same ends as the expression they
    replace."""
    lex = lexicon()
    names = sorted(
        (n for n in lex.given if n.lower() not in lex.common), key=lambda w: (-len(w), w)
    )
    upper = redact_data.LETTER_FRAGMENTS["U"]
    tail = f"(?:(?:[ ]+{particles})*[ ]+{upper}|-{upper})"
    out = []
    for word_start in (True, False):
        # hyperscan's \b: before a name that starts with an ASCII word character, the start
        # or any other character; before one that does not ("Étienne"), an ASCII word
        # character, so such a name never follows a space
        head = "(?:^|[^A-Za-z0-9_])" if word_start else "[A-Za-z0-9_]"
        group = [n for n in names if (re.match(r"[A-Za-z0-9_]", n) is not None) == word_start]
        for i in range(0, len(group), 600):
            alternation = "|".join(re.escape(n) for n in group[i : i + 600])
            out.append(Trigger("person:pair", f"{head}(?:{alternation}){tail}", exact=True))
    return out


def _hyphen_tail(particles: str) -> re.Pattern[str]:
    """The whole tail after a given name followed by `-X`: where it ends is where the
    pair's trigger would end (see _pair_triggers)."""
    frag = redact_data.LETTER_FRAGMENTS
    return redact_data.compile_regex(
        f"(?:-{frag['U']}{frag['L']}+)*(?:[ ]+{particles})*[ ]+{frag['U']}",
        unicode=True,
        where="person hyphenated pair",
    )


def triggers() -> list[Trigger]:
    return list(load_config().triggers)


class PersonDetector:
    def __init__(self, scanner: Scanner | None = None) -> None:
        self._cfg = load_config()
        self.scanner = scanner or Scanner(triggers())

    @property
    def name(self) -> str:
        return NAME

    @property
    def entities(self) -> frozenset[str]:
        return frozenset({"PERSON"})

    def detect(self, text: str) -> list[Span]:
        if not text:
            return []
        hits = self.scanner.scan(text)
        found: dict[tuple[int, int], float] = {}
        lex: Lexicon | None = None
        for kind in ("honorific", "strong", "signoff"):
            for _, end in hits.get(f"person:{kind}"):
                lex = lex or lexicon()
                self._after_cue(text, end, kind, lex, found)
        if "person:pair" in hits:
            self._pairs(text, self._pair_ends(text, hits), lex or lexicon(), found)
        spans = sorted(
            (Span(s, e, "PERSON", score, NAME) for (s, e), score in found.items()),
            key=lambda sp: (sp.start, -sp.end),
        )
        out: list[Span] = []
        for sp in spans:  # a name found twice (cue and pair) or inside a longer one
            if out and sp.start < out[-1].end:
                continue
            out.append(sp)
        return out

    def _tokens(self, text: str, start: int) -> list[tuple[int, int]]:
        m = self._cfg.name_run.match(text, start)
        if not m:
            return []
        out, pos = [], start
        for part in m.group().split(" "):
            if part and part not in self._cfg.particles:
                out.append((pos, pos + len(part)))
            pos += len(part) + 1
        return out

    def _after_cue(
        self, text: str, end: int, kind: str, lex: Lexicon, found: dict[tuple[int, int], float]
    ) -> None:
        lead_re = _SIGNOFF_LEAD if kind == "signoff" else _LEAD
        lead = lead_re.match(text, end, min(len(text), end + self._cfg.window + 4))
        if lead is None:
            return
        start = lead.end()
        tokens = self._tokens(text, start)
        if not tokens:
            return
        words = [text[s:e] for s, e in tokens]
        if kind == "weak" and not lex.known(words[0]):
            return
        # keep words while they can be a name: known, or not a common word
        keep = 0
        for w in words:
            low = w.lower()
            if low not in lex.stop and (lex.known(w) or low not in lex.common):
                keep += 1
            else:
                break
        if keep == 0:
            return
        if kind == "weak" and keep > 1 and not all(lex.known(w) for w in words[1:keep]):
            keep = 1  # "for Emma Leggings": only the part the lexicon vouches for
            if words[0] in lex.family and words[0] not in lex.given:
                return
        found[(tokens[0][0], tokens[keep - 1][1])] = self._cfg.scores[kind]

    def _pair_ends(self, text: str, hits: Hits) -> list[int]:
        """Where the name pairs' trigger ends (one letter into the second word), in order;
        after a hyphenated given name, where its tail ends (see _pair_triggers)."""
        ends = []
        for _, end in hits.get("person:pair"):
            if text[end - 2] == "-":  # "Jean-P": the hit ends on the capital after a hyphen
                m = self._cfg.hyphen_tail.match(text, end - 2)
                if m is None:
                    continue
                end = m.end()
            ends.append(end)
        return sorted(ends)

    def _pairs(
        self, text: str, ends: list[int], lex: Lexicon, found: dict[tuple[int, int], float]
    ) -> None:
        done = -1
        for end in ends:
            # the hit ends one letter into the second word; find the first word's start
            start, head = _first_word(text, end - 2, self._cfg.particles)
            if start < done:
                continue
            # most pairs are product names ("Joust Duffle Bag"): a set lookup first
            first = text[start:head].split("-", 1)[0]
            if first not in lex.given and first not in lex.family:
                continue
            tokens = self._tokens(text, start)
            if not tokens:
                continue
            done = tokens[-1][1]
            words = [text[s:e] for s, e in tokens]
            if self._pair(words, tokens, lex, found):
                continue
            # after a weak cue ("refund to Pim van Landen"), a known first word will do
            if words[0].lower() not in lex.stop and self._weak_cue_before(text, start):
                self._after_cue(text, start, "weak", lex, found)

    def _weak_cue_before(self, text: str, start: int) -> bool:
        """Whether a weak cue ("for", "refund to") ends right before `start`. Asked for
        every Title Case product name that starts with a given name ("Erin Recommends",
        ~2 a shop prompt): the cheap refusals come first."""
        if not text[start - 1 : start].isspace():
            return False
        before = _CUE_WORDS.findall(text[max(0, start - 32) : start].lower())
        if before and before[-1] in ",:;":
            before.pop()
        if not before or before[-1] not in self._cfg.weak_cue_ends:
            return False
        cues = self._cfg.weak_cues
        return any(" ".join(before[-k:]) in cues for k in (3, 2, 1) if len(before) >= k)

    def _pair(
        self,
        words: list[str],
        tokens: list[tuple[int, int]],
        lex: Lexicon,
        found: dict[tuple[int, int], float],
    ) -> bool:
        """A known given name followed by a known family name, no cue needed."""
        # drop leading words that are not given names ("Thanks John Smith")
        while words and not _given(words[0], lex):
            words, tokens = words[1:], tokens[1:]
        # and trailing ones that are not names at all
        while len(words) > 1 and not lex.known(words[-1]):
            words, tokens = words[:-1], tokens[:-1]
        if len(words) < 2 or words[-1] not in lex.family or words[-1].lower() in lex.common:
            return False
        found.setdefault((tokens[0][0], tokens[-1][1]), self._cfg.scores["pair"])
        return True


def _given(word: str, lex: Lexicon) -> bool:
    return word.split("-", 1)[0] in lex.given and word.lower() not in lex.common


def _first_word(text: str, pos: int, particles: frozenset[str]) -> tuple[int, int]:
    """Start and end of the word before `pos`, stepping back over particles ("Pim van
    Landen": from before "Landen" back to "Pim")."""
    for _ in range(4):
        head = pos
        while head > 0 and text[head - 1] == " ":
            head -= 1
        start = head
        while start > 0 and (text[start - 1].isalpha() or text[start - 1] in "-'’"):
            start -= 1
        if text[start:head] not in particles:
            return start, head
        pos = start
    return start, head
