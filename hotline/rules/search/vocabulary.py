"""The search vocabulary: every word of the rule documents, held per process.

It says what a query word can mean in this knowledge base: its index terms exactly, with
æ/ø/å written loosely, with typos, as the start of a word, and the parts of a compound word
written together ("digitalpost") or apart ("nem konto"). Each search asks the database which
documents exist (their smallest and largest id: an index lookup) and reads only the new ones;
the vocabulary is replaced, never changed in place, so searches in other threads are unaffected.
"""

import bisect
import math
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hotline.db import bound_engine
from hotline.kit.danish import fold, is_stopword, lookup_keys, loose, stem, term, typo_budget
from hotline.rules.models import RuleSearchDocument

MIN_PART = 3  # letters of a compound's part
MIN_HEAD = 4  # letters of the known word a compound ends with
MIN_PREFIX = 3  # letters typed before the last word is completed
LINKING = ("s", "e")  # the letters Danish puts between the parts of a compound
_CACHED_LOOKUPS = 20_000


@dataclass(frozen=True)
class Vocabulary:
    """The words of the documents with ids first_id..last_id, and how often each term occurs."""

    first_id: int | None = None
    last_id: int | None = None
    documents: int = 0
    df: dict[str, int] = field(default_factory=dict)
    exact: dict[str, frozenset[str]] = field(default_factory=dict)
    loose: dict[str, frozenset[str]] = field(default_factory=dict)
    # Folded words and terms, by length (typos) and in order (prefixes).
    by_length: dict[int, tuple[str, ...]] = field(default_factory=dict)
    ordered: tuple[str, ...] = ()
    # A folded word as the documents write it ("laege" → "læge"), for suggestions.
    display: dict[str, str] = field(default_factory=dict)
    _typos: dict = field(default_factory=dict, compare=False, repr=False)

    def idf(self, term_: str | None) -> float:
        """The inverse document frequency of a term (BM25's); an unknown term's is the highest."""
        df = self.df.get(term_, 0) if term_ else 0
        return math.log(1 + (self.documents - df + 0.5) / (df + 0.5))

    def exact_terms(self, word: str) -> set[str]:
        """The terms a word is, in any inflection, with æ/ø/å or ae/oe/aa."""
        found: set[str] = set()
        for key in lookup_keys(word):
            found |= self.exact.get(key, frozenset())
        return found

    def loose_terms(self, word: str) -> set[str]:
        """The terms a word is with æ/ø/å written as plain letters ("korekort")."""
        found: set[str] = set()
        for key in {loose(k) for k in lookup_keys(word)}:
            found |= self.loose.get(key, frozenset())
        return found

    def knows(self, word: str) -> bool:
        """Whether the word occurs in some document (exactly, or loosely written)."""
        return bool(self.exact_terms(word) or self.loose_terms(word))

    def typo_terms(self, word: str) -> dict[str, int]:
        """Terms within the word's typo budget (transposed letters count as one), by distance."""
        budget = typo_budget(word)
        if budget == 0:
            return {}
        cached = self._typos.get(word)
        if cached is not None:
            return cached
        found: dict[str, int] = {}
        for probe in dict.fromkeys((fold(word), fold(stem(word)))):
            allowed = min(budget, typo_budget(probe))  # a short stem is no long word
            if allowed == 0:
                continue
            choices = [
                entry
                for length in range(len(probe) - allowed, len(probe) + allowed + 1)
                for entry in self.by_length.get(length, ())
            ]
            matches = process.extract(
                probe, choices, scorer=OSA.distance, score_cutoff=allowed, limit=None
            )
            for entry, distance, _ in matches:
                for found_term in self.exact.get(entry, ()):
                    if 0 < distance < found.get(found_term, allowed + 1):
                        found[found_term] = int(distance)
        if len(self._typos) > _CACHED_LOOKUPS:
            self._typos.clear()
        self._typos[word] = found
        return found

    def prefix_terms(self, word: str, limit: int = 8) -> list[str]:
        """The most frequent terms of words starting with the word (as-you-type)."""
        start = fold(word)
        if len(word) < MIN_PREFIX:
            return []
        found: set[str] = set()
        at = bisect.bisect_left(self.ordered, start)
        for entry in self.ordered[at : at + 500]:
            if not entry.startswith(start):
                break
            found |= self.exact.get(entry, frozenset())
        return sorted(found, key=lambda t: (-self.df.get(t, 0), t))[:limit]

    def suggest(self, word: str, limit: int = 3) -> list[str]:
        """Words of the documents a mistyped word may be, most likely first ("Mente du …?")."""
        folded = fold(word)
        if typo_budget(word) == 0:
            return []  # a short word has too many neighbours to guess from
        budget = typo_budget(word) + 1
        choices = [
            entry
            for length in range(len(folded) - budget, len(folded) + budget + 1)
            for entry in self.by_length.get(length, ())
            if entry in self.display
        ]
        matches = process.extract(
            folded, choices, scorer=OSA.distance, score_cutoff=budget, limit=None
        )
        ranked = sorted(
            (distance, -max(self.df.get(t, 0) for t in self.exact[entry]), entry)
            for entry, distance, _ in matches
            if distance > 0
        )
        found: list[str] = []
        for _, _, entry in ranked:
            shown = self.display[entry]
            if shown not in found:
                found.append(shown)
        return found[:limit]

    def joined_term(self, parts: Iterable[str]) -> str | None:
        """The term of the words written together as one ("nem konto" → nemkonto), if known."""
        terms = self.exact_terms("".join(fold(p) for p in parts))
        return max(terms, key=lambda t: (self.df.get(t, 0), t)) if terms else None

    def compound_parts(self, word: str) -> tuple[str, ...] | None:
        """The terms of a compound's known parts ("digitalpost" → digital, post), or None."""
        # Of the possible splits, the one whose parts are most common wins (Koehn and Knight's
        # geometric mean), so a word is not cut into rare pieces.
        best, best_score = None, 0.0
        for parts in self._splits(fold(word), depth=2):
            terms = [self._part_term(p) for p in parts]
            score = math.prod(self.df.get(t, 0) for t in terms) ** (1 / len(terms))
            if score > best_score:
                best, best_score = tuple(terms), score
        return best

    def compound_head(self, word: str) -> str | None:
        """The term of the longest known word a compound ends with ("motorcykel|kørekort")."""
        # In Danish the last part of a compound says what the thing is.
        folded = fold(word)
        for cut in range(MIN_PART, len(folded) - MIN_HEAD + 1):
            if self._is_part(folded[cut:]):
                return self._part_term(folded[cut:])
        return None

    def _splits(self, word: str, depth: int):
        for cut in range(MIN_PART, len(word) - MIN_PART + 1):
            head, tail = word[:cut], word[cut:]
            heads = [head]
            if head.endswith(LINKING) and len(head) > MIN_PART:
                heads.append(head[:-1])
            for part in heads:
                if not self._is_part(part):
                    continue
                if self._is_part(tail):
                    yield (part, tail)
                if depth > 1 and len(tail) >= 2 * MIN_PART:
                    for rest in self._splits(tail, depth - 1):
                        yield (part, *rest)

    def _is_part(self, word: str) -> bool:
        return len(word) >= MIN_PART and not is_stopword(word) and word in self.exact

    def _part_term(self, word: str) -> str:
        return max(self.exact[word], key=lambda t: (self.df.get(t, 0), t))

    def extended(self, rows: Iterable[tuple[int, str]]) -> "Vocabulary":
        """A vocabulary with these (document id, words) added."""
        df, exact, looses = dict(self.df), dict(self.exact), dict(self.loose)
        display = dict(self.display)
        new_entries: set[str] = set()
        first, last, documents = self.first_id, self.last_id, self.documents
        for doc_id, text in rows:
            first = doc_id if first is None else min(first, doc_id)
            last = doc_id if last is None else max(last, doc_id)
            documents += 1
            surfaces = text.split()
            for found_term in {term(w) for w in surfaces}:
                df[found_term] = df.get(found_term, 0) + 1
            for word in surfaces:
                display.setdefault(fold(word), word)
                found_term = term(word)
                for key in lookup_keys(word):
                    if found_term not in exact.get(key, ()):
                        exact[key] = exact.get(key, frozenset()) | {found_term}
                        new_entries.add(key)
                    loose_key = loose(key)
                    if found_term not in looses.get(loose_key, ()):
                        looses[loose_key] = looses.get(loose_key, frozenset()) | {found_term}
        added = new_entries - self.exact.keys()
        grouped: dict[int, list[str]] = {}
        for entry in sorted(added):
            grouped.setdefault(len(entry), []).append(entry)
        by_length = dict(self.by_length)
        for length, entries in grouped.items():
            by_length[length] = (*by_length.get(length, ()), *entries)
        ordered = tuple(sorted({*self.ordered, *added})) if added else self.ordered
        return replace(
            self,
            first_id=first,
            last_id=last,
            documents=documents,
            df=df,
            exact=exact,
            loose=looses,
            by_length=by_length,
            ordered=ordered,
            display=display,
            _typos={},
        )


# One vocabulary per engine: a test's fresh database never sees another's words.
_vocabularies: "weakref.WeakKeyDictionary[Engine, Vocabulary]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()
# Two scalar subqueries: SQLite reads min() or max() from the index only when each is alone.
BOUNDS = (
    select(func.min(RuleSearchDocument.id)).scalar_subquery(),
    select(func.max(RuleSearchDocument.id)).scalar_subquery(),
)


def vocabulary_for(session: Session, bounds: tuple | None = None) -> Vocabulary:
    """The vocabulary of the database as it is now; bounds: BOUNDS when already read."""
    engine = bound_engine(session)
    connection = session.connection()
    first, last = bounds if bounds is not None else connection.execute(select(*BOUNDS)).one()
    known = _vocabularies.get(engine)
    if known is not None and known.first_id == first and known.last_id == last:
        return known
    with _lock:
        known = _vocabularies.get(engine)
        if known is None or known.first_id != first or (known.last_id or 0) > (last or 0):
            known = Vocabulary()  # documents were removed (a reindex): start again
        if known.last_id != last:
            rows = connection.execute(
                select(RuleSearchDocument.id, RuleSearchDocument.words)
                .where(RuleSearchDocument.id > (known.last_id or 0))
                .order_by(RuleSearchDocument.id)
            )
            known = known.extended(rows)
        _vocabularies[engine] = known
        return known


def clear() -> None:
    """Forget every vocabulary (tests empty their database between cases)."""
    with _lock:
        _vocabularies.clear()
