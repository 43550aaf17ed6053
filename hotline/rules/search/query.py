"""A caller's words as a search: clauses of what each word (or phrase) can mean.

Every word is optional: a document is ranked by the clauses it covers. A clause stands for a
query word, or for a phrase a synonym names ("det gule kort"), or for words written apart that
the knowledge base writes together ("nem konto"). Its alternatives are the index terms that
satisfy it, each with a quality: exact (any inflection, æ/ø/å or ae/oe/aa) above loose spelling
("korekort"), synonyms, parts of a compound ("digitalpost"), typos (one from 5 letters, two from
9) and, for an unfinished last word, the words it begins.
"""

import itertools
from dataclasses import dataclass

from hotline.kit.danish import is_stopword, word_groups
from hotline.rules.search.documents import MAX_WORD
from hotline.rules.search.synonyms import SynonymSet, content_words, phrase_forms, phrase_key
from hotline.rules.search.vocabulary import Vocabulary

MAX_QUERY_WORDS = 40  # words read of a query
MAX_CLAUSES = 16  # what a query can ask about at most
MAX_JOINED = 3  # words written apart that may be one compound
MAX_PHRASE_COMBINATIONS = 4  # a phrase's words may each be several terms
MAX_ALTERNATIVES = 50  # what one clause can mean at most (synonyms kept by many admins)
QUALITY = {
    "exact": 1.0,
    "joined": 1.0,
    "loose": 0.8,
    "apart": 0.9,
    "synonym": 0.9,
    "split": 0.7,
    "typo1": 0.7,
    "typo2": 0.55,
    "prefix": 0.6,
    "part": 0.35,
}


@dataclass(frozen=True)
class Alternative:
    """Index terms that together satisfy a clause, and how they were found."""

    terms: tuple[str, ...]
    kind: str

    @property
    def quality(self) -> float:
        """How much a match counts, against an exact match's 1."""
        return QUALITY[self.kind]


@dataclass(frozen=True)
class Clause:
    """Query words and what they can mean; importance: how much they say (an IDF)."""

    words: tuple[str, ...]
    alternatives: tuple[Alternative, ...]
    importance: float


@dataclass(frozen=True)
class ParsedQuery:
    """A query as clauses."""

    text: str
    clauses: tuple[Clause, ...]

    @property
    def terms(self) -> set[str]:
        """Every index term any clause can be satisfied by."""
        return {t for c in self.clauses for a in c.alternatives for t in a.terms}


def query_words(text: str, vocabulary: Vocabulary) -> list[str]:
    """The query's words; joined words ("mit.dk", "id-kort") as one when the documents have it."""
    found: list[str] = []
    for joined, parts in word_groups(text):
        found += [joined] if len(parts) > 1 and vocabulary.knows(joined) else parts
    return [word for word in found if len(word) <= MAX_WORD]


def parse_query(text: str, vocabulary: Vocabulary, synonyms: SynonymSet) -> ParsedQuery | None:
    """The clauses of a query; None when it has no words."""
    every = query_words(text, vocabulary)
    tokens = every[:MAX_QUERY_WORDS]
    if not tokens:
        return None
    content = [not is_stopword(w) for w in tokens]
    if not any(content):  # only small words: search for them as they are
        content = [True] * len(tokens)
    # The last word may still be being typed.
    last = len(tokens) - 1 if text[-1:].isalnum() and len(every) == len(tokens) else None
    taken = [False] * len(tokens)
    spans: list[tuple[int, Clause]] = []

    def take(start: int, end: int, clause: Clause) -> None:
        spans.append((start, clause))
        taken[start:end] = [True] * (end - start)

    # Synonym phrases match the query's content words in order, small words between them aside
    # ("glemt min adgangskode" matches "glemt adgangskode").
    places = [i for i, c in enumerate(content) if c]
    for length in range(min(synonyms.longest, len(places)), 0, -1):
        for first in range(len(places) - length + 1):
            chosen = places[first : first + length]
            start, end = chosen[0], chosen[-1] + 1
            if any(taken[start:end]):
                continue
            said = [tokens[i] for i in chosen]
            targets = synonyms.targets(phrase_key(said))
            if targets:
                prefix = length == 1 and chosen[0] == last
                take(start, end, _synonym_clause(said, targets, vocabulary, prefix))
    for length in range(MAX_JOINED, 1, -1):
        for start in range(len(tokens) - length + 1):
            end = start + length
            if not all(content[start:end]) or any(taken[start:end]):
                continue
            joined = vocabulary.joined_term(tokens[start:end])
            if joined is not None:
                take(start, end, _joined_clause(tokens[start:end], joined, vocabulary))
    for i, word in enumerate(tokens):
        if content[i] and not taken[i]:
            alternatives = word_alternatives(word, vocabulary, prefix=i == last)
            if not vocabulary.knows(word) and (mistyped := synonyms.typo_key(word)):
                key, typos = mistyped
                for target in synonyms.targets(key):
                    alternatives += _phrase(target, vocabulary, f"typo{typos}")
            take(i, i + 1, _clause((word,), alternatives, vocabulary))
    spans.sort(key=lambda span: span[0])
    return ParsedQuery(text=text, clauses=tuple(clause for _, clause in spans[:MAX_CLAUSES]))


def word_alternatives(word: str, vocabulary: Vocabulary, prefix: bool = False) -> list[Alternative]:
    """What a word can mean: as is or loosely spelt, else typos, parts and (prefix) beginnings."""
    exact = vocabulary.exact_terms(word)
    found = [Alternative((t,), "exact") for t in sorted(exact)]
    looses = vocabulary.loose_terms(word) - exact
    found += [Alternative((t,), "loose") for t in sorted(looses)]
    if found:
        return found
    if prefix:
        found += [Alternative((t,), "prefix") for t in vocabulary.prefix_terms(word)]
    typos = vocabulary.typo_terms(word)
    found += [Alternative((t,), f"typo{d}") for t, d in sorted(typos.items())]
    parts = vocabulary.compound_parts(word)
    if parts:
        found.append(Alternative(parts, "split"))
        # A part alone says less, but still something ("pastyveri": a lost passport).
        found += [Alternative((part,), "part") for part in dict.fromkeys(parts)]
    elif head := vocabulary.compound_head(word):
        found.append(Alternative((head,), "part"))  # "motorcykelkørekort": a kørekort
    return found


def _phrase(phrase: str, vocabulary: Vocabulary, kind: str) -> list[Alternative]:
    """A synonym's phrase as alternatives: its joined words together ("mit.dk"), else apart."""
    for form in phrase_forms(phrase):
        if found := _words(form, vocabulary, kind):
            return found
    return []


def _words(phrase_words, vocabulary: Vocabulary, kind: str) -> list[Alternative]:
    """Words that must all occur, each combination of their terms; none if one is unknown."""
    content = content_words(phrase_words)
    choices = [sorted(vocabulary.exact_terms(w) or vocabulary.loose_terms(w)) for w in content]
    if not content or not all(choices):
        return []
    combinations = itertools.islice(itertools.product(*choices), MAX_PHRASE_COMBINATIONS)
    return [Alternative(tuple(dict.fromkeys(terms)), kind) for terms in combinations]


def _synonym_clause(said: list[str], targets, vocabulary: Vocabulary, prefix: bool) -> Clause:
    if len(said) == 1:
        alternatives = word_alternatives(said[0], vocabulary, prefix=prefix)
    else:
        alternatives = _words(said, vocabulary, "exact")
    for target in targets:
        alternatives += _phrase(target, vocabulary, "synonym")
    return _clause(tuple(said), alternatives, vocabulary)


def _joined_clause(span, joined: str, vocabulary: Vocabulary) -> Clause:
    alternatives = [Alternative((joined,), "joined")]
    alternatives += _words(span, vocabulary, "apart")
    return _clause(tuple(span), alternatives, vocabulary)


def _clause(clause_words, found, vocabulary: Vocabulary) -> Clause:
    best: dict[tuple[str, ...], Alternative] = {}
    for alternative in found:  # the same terms found twice count as the better way
        if alternative.terms not in best or alternative.quality > best[alternative.terms].quality:
            best[alternative.terms] = alternative
    alternatives = sorted(best.values(), key=lambda a: -a.quality)[:MAX_ALTERNATIVES]
    # What the words say: as much as the rarest thing they can mean, or, when they can only be
    # a part of a compound ("arbejdsgiver" → giver), as much as an unknown word.
    meanings = [a for a in alternatives if a.kind != "part"]
    importance = max(
        (max(vocabulary.idf(t) for t in a.terms) for a in meanings), default=vocabulary.idf(None)
    )
    return Clause(tuple(clause_words), tuple(alternatives), importance)
