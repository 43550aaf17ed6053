"""Suggest a class for a citizen's comment from a transparent Danish word list.

The list and the rules are in comment_words_da.toml; the suggestion names the words it was made
from, so a supervisor sees why, and confirms or changes it.
"""

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from hotline.insight.models import COMMENT_CLASSES

WORD_LIST_PATH = Path(__file__).with_name("comment_words_da.toml")
NEGATION_WINDOW = 2  # a negation up to this many words before a match negates it
_WORD = re.compile(r"[0-9a-zæøåäöüé]+")
_TOKEN = re.compile(r"[0-9a-zæøåäöüé]+|[.!?,;:]")


@dataclass(frozen=True)
class Entry:
    """One word or phrase of the list: its words, the last one maybe a prefix (written "…*")."""

    text: str
    words: tuple[str, ...]
    prefix: bool

    def matches_at(self, tokens: list[str], start: int) -> bool:
        """Whether the entry's words are the tokens from start on."""
        end = start + len(self.words)
        if end > len(tokens):
            return False
        *whole, last = self.words
        if list(tokens[start : end - 1]) != whole:
            return False
        token = tokens[end - 1]
        return token.startswith(last) if self.prefix else token == last


@dataclass(frozen=True)
class WordList:
    """The classes' entries, the negation words, and the scoring's two numbers."""

    entries: dict[str, tuple[Entry, ...]]
    negations: frozenset[str]
    threshold: float
    sceptical_weight: float

    def by_length(self) -> list[tuple[str, Entry]]:
        """Every (class, entry), longest phrase first, so "virker ikke" beats "ikke"."""
        pairs = [(name, entry) for name, entries in self.entries.items() for entry in entries]
        return sorted(pairs, key=lambda pair: -len(pair[1].words))


@dataclass(frozen=True)
class Match:
    """Words found in the comment (with the negation before them, if any), and their class."""

    text: str
    counts_as: str
    negated: bool = False


@dataclass(frozen=True)
class Suggestion:
    """The suggested class, the words found, and their total (positive - negative - doubts)."""

    comment_class: str | None
    total: float = 0.0
    matches: tuple[Match, ...] = field(default_factory=tuple)
    from_score: bool = False

    @property
    def words(self) -> list[str]:
        """The matched words and phrases, in the comment's order."""
        return [match.text for match in self.matches]


def _entry(text: str) -> Entry:
    cleaned = text.strip().lower()
    prefix = cleaned.endswith("*")
    words = tuple(_WORD.findall(cleaned.rstrip("*")))
    if not words:
        raise ValueError(f"an empty entry in the word list: {text!r}")
    return Entry(text=cleaned, words=words, prefix=prefix)


@cache
def load_word_list(path: Path = WORD_LIST_PATH) -> WordList:
    """The shipped word list (read once)."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return WordList(
        entries={name: tuple(_entry(text) for text in data[name]) for name in COMMENT_CLASSES},
        negations=frozenset(word.lower() for word in data["negations"]),
        threshold=float(data["threshold"]),
        sceptical_weight=float(data["sceptical_weight"]),
    )


def tokens_of(text: str) -> list[str]:
    """The comment's words in lower case, and its punctuation (which a phrase never spans)."""
    return _TOKEN.findall(text.lower())


def find_matches(text: str, word_list: WordList | None = None) -> list[Match]:
    """The list's words and phrases in the text, each with the class it counts for."""
    word_list = word_list or load_word_list()
    tokens = tokens_of(text)
    taken = [False] * len(tokens)
    found: list[tuple[int, int, str]] = []
    ordered = word_list.by_length()
    for start in range(len(tokens)):
        for name, entry in ordered:
            width = len(entry.words)
            if any(taken[start : start + width]) or not entry.matches_at(tokens, start):
                continue
            taken[start : start + width] = [True] * width
            found.append((start, start + width, name))
            break
    matches = []
    for start, end, name in sorted(found):
        negation = _negation_before(tokens, taken, start, word_list.negations)
        if negation is None:
            matches.append(Match(" ".join(tokens[start:end]), name))
            continue
        negated = _negate(name)
        if negated is not None:
            matches.append(Match(" ".join(tokens[negation:end]), negated, negated=True))
    return matches


def _negation_before(
    tokens: list[str], taken: list[bool], start: int, negations: frozenset[str]
) -> int | None:
    """Where a negation word stands up to NEGATION_WINDOW words before start, if one does.

    Punctuation and matched words stop the search: in "ingen tvivl, fremragende" the "ingen"
    belongs to "tvivl", not to "fremragende".
    """
    for i in range(start - 1, max(-1, start - 1 - NEGATION_WINDOW), -1):
        if taken[i] or not _WORD.fullmatch(tokens[i]):
            return None
        if tokens[i] in negations:
            return i
    return None


def _negate(counts_as: str) -> str | None:
    """ "ikke god" is negative, "ikke dårlig" only lukewarm; "ingen tvivl" counts for nothing."""
    return {"positive": "negative", "negative": "sceptical"}.get(counts_as)


def suggest_class(comment: str, score: int | None = None) -> Suggestion:
    """The class the word list suggests for a comment (by its score when no word matches)."""
    if not comment.strip():
        return Suggestion(None)
    word_list = load_word_list()
    matches = tuple(find_matches(comment, word_list))
    if not matches:
        return Suggestion(_class_of_score(score), from_score=score is not None)
    count = Counter(match.counts_as for match in matches)
    balance = count["positive"] - count["negative"]
    # Doubts hold praise back, but only complaints make a comment negative.
    total = balance - word_list.sceptical_weight * count["sceptical"]
    if balance <= -word_list.threshold:
        comment_class = "negative"
    elif total >= word_list.threshold:
        comment_class = "positive"
    else:
        comment_class = "sceptical"
    return Suggestion(comment_class, total, matches)


def _class_of_score(score: int | None) -> str | None:
    if score is None:
        return None
    return "negative" if score <= 2 else "sceptical" if score == 3 else "positive"
