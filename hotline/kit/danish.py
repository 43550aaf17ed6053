"""Danish words as search sees them: tokens, æ/ø/å folding, stems, stop words, typo budgets.

Folding makes "læge", "laege" (æ written ae) and, loosely, "lage" (æ dropped) one word: a
caller's keyboard or spelling must not decide what is found. Stems come from the Snowball
"danish" stemmer, the same algorithm PostgreSQL's danish configuration uses.
"""

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer

# Letters and digits (Unicode); everything else separates words.
WORD = re.compile(r"[^\W_]+")
_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue"})
# Loose: a Danish letter written as its nearest plain letter ("korekort", "Kobenhavn").
_LOOSE = re.compile(r"aa|ae|oe")
_LOOSE_TO = {"aa": "a", "ae": "a", "oe": "o"}
# The Snowball list (PostgreSQL's danish.stop) plus the filler words of spoken questions:
# words that say how a caller asks, not what about.
_STOPWORDS = """
    og i jeg det at en den til er som på de med han af for ikke der var mig sig men et har om
    vi min havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv her
    alle vil blev kunne ind når være dog noget ville jo deres efter ned skulle denne end dette mit
    også under have dig anden hende mine alt meget sit sine vor mod disse hvis din nogle hos blive
    mange ad bliver hendes været thi jer sådan
    kan får få fik gør gøre gjort hvordan hvornår hvorfor hvem hvilken hvilket hvilke mon gerne
    bare lige så må nok hej tak altså vores jeres dit ens hinanden nogen helt godt blevet ved
    går gik
"""
STOPWORDS = frozenset(_STOPWORDS.split())
_local = threading.local()


def words(text: str) -> list[str]:
    """The lower-cased words of a text."""
    return WORD.findall(text.lower())


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """æ/ø/å as ae/oe/aa, other accents dropped ("é" → "e"); word lower-cased."""
    folded = word.translate(_FOLD)
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded).lower()
    # NFKD may also give spaces or signs ("½" → "1⁄2"): a word stays letters and digits.
    return "".join(WORD.findall("".join(c for c in decomposed if not unicodedata.combining(c))))


@lru_cache(maxsize=200_000)
def loose(word: str) -> str:
    """The folded word with aa/ae/oe as one plain letter: "lage" for "læge" and "laege"."""
    return _LOOSE.sub(lambda m: _LOOSE_TO[m[0]], fold(word))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Danish stem of a lower-cased word."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:  # snowball stemmers keep state: one per thread
        stemmer = _local.stemmer = snowballstemmer.stemmer("danish")
    return stemmer.stemWord(word)


@lru_cache(maxsize=200_000)
def term(word: str) -> str:
    """The index term of a lower-cased word: its stem, folded."""
    return fold(stem(word))


def is_stopword(word: str) -> bool:
    """Whether a lower-cased word says nothing about what is asked."""
    if word.isdigit():  # 1-2 digits: mostly an age or a count ("min søn på 12")
        return len(word) <= 2
    return word in STOPWORDS or fold(word) in _FOLDED_STOPWORDS


_FOLDED_STOPWORDS = frozenset(fold(w) for w in STOPWORDS)


@lru_cache(maxsize=200_000)
def lookup_keys(word: str) -> tuple[str, ...]:
    """The forms under which a word is the same word: folded, stemmed either way round."""
    folded = fold(word)
    keys = [folded, term(word), stem(folded)]
    # An adjective's or participle's neuter -t, which the stemmer leaves: "internationale
    # kørekort" finds "Internationalt kørekort".
    if len(word) >= 6 and word.endswith("t"):
        keys.append(term(word[:-1]))
    return tuple(dict.fromkeys(keys))


# Words joined by a hyphen, a dot or a slash ("id-kort", "mit.dk", "c/o"): callers write them
# together, apart or joined, so each is also taken as one word.
GROUP = re.compile(r"[^\W_]+(?:[-./][^\W_]+)*")


def word_groups(text: str) -> list[tuple[str, list[str]]]:
    """Each group of joined words, lower-cased: (written together, its words)."""
    found = []
    for match in GROUP.finditer(text.lower()):
        parts = WORD.findall(match[0])
        found.append(("".join(parts), parts))
    return found


def joined_words(text: str) -> list[str]:
    """The joined words of a text written together ("id-kort" → "idkort")."""
    return [joined for joined, parts in word_groups(text) if len(parts) > 1]


def typo_budget(word: str) -> int:
    """Typos forgiven in a word of this length: none under 5 letters, 1 from 5, 2 from 9."""
    length = len(word)
    return 0 if length < 5 else 1 if length < 9 else 2
