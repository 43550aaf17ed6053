"""Synonyms kept by people: the national list in kb_rules/synonyms.txt, and each municipality's.

A line is either equivalent phrases, any of which finds what the others find:

    sundhedskort, sygesikringsbevis, det gule kort

or a one-way rule, where the phrases on the left also search for those on the right:

    nemid, nem id => mitid

A phrase matches its content words in order, each in any inflection and with æ/ø/å written
any way, small words aside ("det gule kort" matches "mit gule kort"); joined words match
together or apart ("p-kort", "p kort", "pkort"). Each search asks for the lines' state (a count
and the newest id) and parses them again only when they changed.
"""

import threading
import weakref
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import Engine, bindparam, func, or_, select
from sqlalchemy.orm import Session

from hotline.db import bound_engine
from hotline.kit.danish import GROUP, fold, is_stopword, loose, term, typo_budget, word_groups
from hotline.kit.errors import InvalidInput
from hotline.rules.models import SearchSynonym

MAX_LINE = 300
MAX_PHRASE_WORDS = 4
MAX_PHRASES = 20
MAX_TARGETS = 40  # phrases one phrase searches for at most, whatever the lines say


@dataclass(frozen=True)
class SynonymLine:
    """Phrases and, for a one-way line, what they also search for."""

    phrases: tuple[str, ...]
    targets: tuple[str, ...] | None = None

    def rules(self):
        """(phrase, the phrases it also searches for) for each phrase of the line."""
        if self.targets is not None:
            for phrase in self.phrases:
                yield phrase, self.targets
            return
        for phrase in self.phrases:
            yield phrase, tuple(p for p in self.phrases if p != phrase)


def parse_synonym_line(line: str) -> SynonymLine:
    """A line of the synonym format; InvalidInput says what is wrong."""
    line = line.strip()
    if len(line) > MAX_LINE:
        raise InvalidInput("synonyms.too_long", max=MAX_LINE)
    if line.count("=>") > 1:
        raise InvalidInput("synonyms.two_arrows")
    left, arrow, right = line.partition("=>")
    phrases = _phrases(left)
    targets = _phrases(right) if arrow else None
    if arrow and (not phrases or not targets):
        raise InvalidInput("synonyms.one_way_needs_both_sides")
    if not arrow and len(phrases) < 2:
        raise InvalidInput("synonyms.needs_two")
    if len(phrases) + len(targets or ()) > MAX_PHRASES:
        raise InvalidInput("synonyms.too_many", max=MAX_PHRASES)
    return SynonymLine(tuple(phrases), tuple(targets) if targets is not None else None)


def _phrases(side: str) -> list[str]:
    found: list[str] = []
    for part in side.split(","):
        groups = word_groups(part)
        if not groups:
            if part.strip():
                raise InvalidInput("synonyms.no_words", phrase=part.strip())
            continue
        if sum(len(words) for _, words in groups) > MAX_PHRASE_WORDS:
            raise InvalidInput(
                "synonyms.phrase_too_long", phrase=part.strip(), max=MAX_PHRASE_WORDS
            )
        phrase = " ".join(GROUP.findall(part.lower()))
        if phrase not in found:
            found.append(phrase)
    return found


def canonical_line(line: str) -> str:
    """The line as stored and shown: lower-case phrases, ", " between, " => " for one-way."""
    parsed = parse_synonym_line(line)
    canonical = ", ".join(parsed.phrases)
    if parsed.targets is not None:
        canonical += " => " + ", ".join(parsed.targets)
    if len(canonical) > MAX_LINE:  # the spaces added after commas count too
        raise InvalidInput("synonyms.too_long", max=MAX_LINE)
    return canonical


def phrase_forms(phrase: str) -> list[tuple[str, ...]]:
    """A phrase's words with joined words together ("p-kort" → pkort), then apart (p, kort)."""
    groups = word_groups(phrase)
    together = tuple(joined for joined, _ in groups)
    apart = tuple(word for _, parts in groups for word in parts)
    return [together] if together == apart else [together, apart]


def content_words(phrase_words) -> list[str]:
    """The words of a phrase that say something (all of them if those are all 1-2 letters)."""
    content = [w for w in phrase_words if not is_stopword(w)]
    return content if any(len(w) > 2 for w in content) else list(phrase_words)


def phrase_key(phrase_words) -> tuple[str, ...]:
    """What a phrase matches on: its content words' stems, with æ/ø/å written any way."""
    return tuple(loose(term(w)) for w in content_words(phrase_words))


@dataclass(frozen=True)
class SynonymSet:
    """Phrase keys and the phrases each also searches for."""

    by_key: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    longest: int = 0
    # One-word phrases, folded, for typos ("handicappakeringskort").
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def targets(self, key: tuple[str, ...]) -> tuple[str, ...]:
        """The phrases a phrase (as its key) also searches for."""
        return self.by_key.get(key, ())

    def typo_key(self, word: str) -> tuple[tuple[str, ...], int] | None:
        """The key of the one-word phrase the word is with typos, and how many, if any."""
        budget = typo_budget(word)
        if not budget or not self.words:
            return None
        best = process.extractOne(
            fold(word), list(self.words), scorer=OSA.distance, score_cutoff=budget
        )
        if best is None or best[1] == 0:
            return None
        return self.words[best[0]], int(best[1])


def synonym_set(lines: list[str]) -> SynonymSet:
    """The synonyms of these lines (a line that no longer parses is left out)."""
    by_key: dict[tuple[str, ...], dict[str, None]] = {}
    one_word: dict[str, tuple[str, ...]] = {}
    for line in lines:
        try:
            parsed = parse_synonym_line(line)
        except InvalidInput:
            continue
        for phrase, targets in parsed.rules():
            for form in phrase_forms(phrase):
                key = phrase_key(form)
                known = by_key.setdefault(key, {})
                for target in targets:
                    if len(known) < MAX_TARGETS:  # many lines on one word: the first ones
                        known.setdefault(target)
                if len(form) == 1:
                    one_word.setdefault(fold(form[0]), key)
    longest = max((len(k) for k in by_key), default=0)
    return SynonymSet({k: tuple(v) for k, v in by_key.items()}, longest, one_word)


_sets: "weakref.WeakKeyDictionary[Engine, dict]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_NATIONAL = SearchSynonym.municipality_code.is_(None)


# The count and newest id of the national lines and of a municipality's (:code): subqueries.
STATES = tuple(
    select(aggregate(SearchSynonym.id)).where(scope).scalar_subquery()
    for scope in (_NATIONAL, SearchSynonym.municipality_code == bindparam("code"))
    for aggregate in (func.count, func.max)
)


def synonyms_for(
    session: Session, municipality_code: str, state: tuple | None = None
) -> SynonymSet:
    """The national synonyms and the municipality's as they are now; state: STATES, if read."""
    # The national lines are parsed once per change and shared; a municipality with lines of its
    # own gets its own set.
    if state is None:
        statement = select(*STATES)
        state = tuple(session.connection().execute(statement, {"code": municipality_code}).one())
    engine = bound_engine(session)
    key = None if not state[2] else municipality_code
    with _lock:
        cached = _sets.setdefault(engine, {}).get(key)
    if cached is not None and cached[0] == state:
        return cached[1]
    local = SearchSynonym.municipality_code == municipality_code
    scope = _NATIONAL if key is None else or_(_NATIONAL, local)
    lines = list(session.connection().scalars(select(SearchSynonym.line).where(scope)))
    found = synonym_set(lines)
    with _lock:
        _sets.setdefault(engine, {})[key] = (state, found)
    return found


def clear() -> None:
    """Forget the parsed synonyms (tests empty their database between cases)."""
    with _lock:
        _sets.clear()
