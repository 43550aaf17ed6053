"""Finding a caller's municipality from what they say: a municipality, a postal district, a town,
a village, a part of a city or an island, in any spelling.

Names come from the municipalities, the postal codes (DAWA and PostNord names, e.g. "Aarhus C",
"Kgs. Lyngby") and GeoNames' places (CC BY 4.0). Names are compared folded (æ/ø/å as ae/oe/aa,
or loosely as a/o/a), with abbreviations written out ("Kgs." → kongens), as the start of a name
while the agent types, and with typos (one from 5 letters, two from 9). Each municipality is
listed once, with the name that found it; among equally good matches the municipality's own
name comes first, then postal towns, then bigger places before smaller ones.
The index is built once per database from its reference data (loaded at `hotline db upgrade`).
"""

import bisect
import re
import threading
import weakref
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hotline.db import bound_engine
from hotline.kit.danish import fold, is_stopword, loose, typo_budget
from hotline.municipalities.models import Municipality, Place, PostalCode

# Abbreviations in Danish place names, written out.
ABBREVIATIONS = {
    "kgs": "kongens",
    "sdr": "sønder",
    "nr": "nørre",
    "vr": "vester",
    "st": "store",
    "ll": "lille",
    "gl": "gamle",
}
_NOISE = re.compile(r"\b(?:regionskommune|kommunes?)\b")
_WORD = re.compile(r"[^\W_]+")
# How likely a kind of name is what the caller means, among equally good matches.
MUNICIPALITY, POSTAL_TOWN, PLACE, POSTAL_FRINGE = 0, 1, 2, 3
QUALITY = {"exact": 1.0, "loose": 0.95, "prefix": 0.8, "typo1": 0.7, "typo2": 0.55}


def place_key(name: str) -> str:
    """A name as compared: lower-case, folded, abbreviations written out, no "Kommune"."""
    words = [ABBREVIATIONS.get(w, w) for w in _WORD.findall(_NOISE.sub(" ", name.lower()))]
    return fold(" ".join(words))


@dataclass(frozen=True)
class Entry:
    """A name that points at a municipality."""

    label: str
    code: str
    kind: int
    postnr: str | None = None
    population: int = 0


@dataclass(frozen=True)
class Found:
    """A municipality found, by which name, and how well."""

    entry: Entry
    quality: float

    @property
    def order(self) -> tuple:
        """Best first: the match, then the kind of name, then the size of the place."""
        return (-self.quality, self.entry.kind, -self.entry.population, self.entry.label)


@dataclass
class PlaceIndex:
    """Every name, by its key and its loose key; the keys in order (prefixes) and by length."""

    by_key: dict[str, list[Entry]] = field(default_factory=dict)
    by_loose: dict[str, list[Entry]] = field(default_factory=dict)
    ordered: list[str] = field(default_factory=list)
    by_postnr: dict[str, list[Entry]] = field(default_factory=dict)

    def add(self, name: str, entry: Entry) -> None:
        """Index the entry under the name."""
        key = place_key(name)
        if key:
            self.by_key.setdefault(key, []).append(entry)
            self.by_loose.setdefault(loose(key), []).append(entry)

    def find(self, query: str, prefix: bool = True) -> list[Found]:
        """The entries whose names match the query, and how well; prefix: as the agent types."""
        key = place_key(query)
        if not key:
            return []
        found = [Found(e, QUALITY["exact"]) for e in self.by_key.get(key, [])]
        found += [Found(e, QUALITY["loose"]) for e in self.by_loose.get(loose(key), [])]
        at = bisect.bisect_left(self.ordered, key)
        for name in self.ordered[at : at + 200] if prefix else ():
            if not name.startswith(key):
                break
            found += [Found(e, QUALITY["prefix"]) for e in self.by_key[name]]
        if not found and (budget := typo_budget(query.strip())):
            matches = process.extract(
                key, self.ordered, scorer=OSA.distance, score_cutoff=budget, limit=20
            )
            for name, distance, _ in matches:
                found += [Found(e, QUALITY[f"typo{int(distance)}"]) for e in self.by_key[name]]
        return found

    def find_in_words(self, sentence: str) -> list[Found]:
        """A place named inside a sentence ("jeg bor i Skagen"): the longest words that match."""
        words = sentence.split()
        for length in range(min(len(words) - 1, 3), 0, -1):
            found = []
            for start in range(len(words) - length + 1):
                span = words[start : start + length]
                if is_stopword(span[0].lower()) or is_stopword(span[-1].lower()):
                    continue
                matches = self.find(" ".join(span), prefix=False)
                found += [Found(f.entry, f.quality * 0.9) for f in matches]
            if found:
                return found
        return []


_indexes: "weakref.WeakKeyDictionary[Engine, PlaceIndex]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def place_index(session: Session) -> PlaceIndex:
    """The index of the session's database (built on first use)."""
    engine = bound_engine(session)
    with _lock:
        index = _indexes.get(engine)
        if index is None:
            index = _indexes[engine] = _build(session)
        return index


def _build(session: Session) -> PlaceIndex:
    index = PlaceIndex()
    names: dict[str, str] = {}
    places: set[tuple[str, str]] = set()
    for code, name in session.execute(select(Municipality.code, Municipality.name)):
        names[code] = name
        index.add(name, Entry(name.removesuffix(" Kommune"), code, MUNICIPALITY))
        places.add((place_key(name), code))
    for name, alternates, code, feature, population in session.execute(
        select(
            Place.name, Place.alternates, Place.municipality_code, Place.feature, Place.population
        )
    ):
        if feature == "ADM2":  # GeoNames' own entry of the municipality, with its other names
            entry = Entry(names.get(code, name).removesuffix(" Kommune"), code, MUNICIPALITY)
        else:
            entry = Entry(name, code, PLACE, population=population)
        for spelling in [name, *filter(None, alternates.split("|"))]:
            index.add(spelling, entry)
        places.add((place_key(name), code))
    for postnr, code, city in session.execute(
        select(PostalCode.postnr, PostalCode.municipality_code, PostalCode.city)
    ):
        # A postal district reaching into a neighbouring municipality: less likely meant there.
        main = any((head, code) in places for head in _heads(place_key(city)))
        entry = Entry(city, code, POSTAL_TOWN if main else POSTAL_FRINGE, postnr=postnr)
        index.add(city, entry)
        index.by_postnr.setdefault(postnr, []).append(entry)
    index.ordered = sorted(index.by_key)
    return index


def _heads(key: str) -> list[str]:
    """A name and its beginnings at word boundaries ("aarhus c" → "aarhus c", "aarhus")."""
    words = key.split()
    return [" ".join(words[:n]) for n in range(len(words), 0, -1)]


def clear() -> None:
    """Forget the indexes (after the reference data was loaded again)."""
    with _lock:
        _indexes.clear()
