"""Municipalities: loading the shipped data, finding one by what a caller says, or by line."""

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from hotline.kit.errors import NotFound
from hotline.municipalities.models import Municipality, Place, PostalCode
from hotline.municipalities.picker import MUNICIPALITY, Entry, Found, place_index
from hotline.municipalities.picker import clear as clear_place_indexes

DATA_DIR = Path(__file__).parent / "data"


def load_municipalities(*, session: Session) -> int:
    """Insert or update the 98 municipalities and their postal codes; returns the count."""
    existing = {m.code: m for m in session.scalars(select(Municipality))}
    with open(DATA_DIR / "dk_kommuner_98_derived.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        municipality = existing.get(row["kommunekode"]) or Municipality(code=row["kommunekode"])
        municipality.name = row["kommunenavn"]
        municipality.region_code = row["regionskode"]
        municipality.region_name = row["regionsnavn"]
        session.add(municipality)
    session.flush()
    known_codes = {row["kommunekode"] for row in rows}
    _load_postal_codes(session=session, known_codes=known_codes)
    _load_places(session=session, known_codes=known_codes)
    clear_place_indexes()  # this process builds its picker again from what was loaded
    return len(rows)


def _load_postal_codes(*, session: Session, known_codes: set[str]) -> None:
    with open(DATA_DIR / "dk_postnumre_dawa.csv", encoding="utf-8") as f:
        dawa_names = {
            row["postnr"].zfill(4): row["navn"] for row in csv.DictReader(f, delimiter=";")
        }
    existing = set(session.execute(select(PostalCode.postnr, PostalCode.municipality_code)))
    with open(DATA_DIR / "dk_postnr_kommune_region_postnord_2018.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter=";"):
            key = (row["POSTNR"].zfill(4), row["KOMMUNE_NR"].zfill(4))
            if key[1] in known_codes and key not in existing:
                session.add(
                    PostalCode(
                        postnr=key[0],
                        municipality_code=key[1],
                        city=dawa_names.get(key[0], row["BYNAVN"]),
                    )
                )
                existing.add(key)
    session.flush()


def _load_places(*, session: Session, known_codes: set[str]) -> None:
    """The shipped GeoNames places (made by scripts/make-places), unless already loaded."""
    with open(DATA_DIR / "dk_places_geonames.tsv", encoding="utf-8") as f:
        rows = [
            row
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            if row["kommunekode"] in known_codes
        ]
    if session.scalar(select(func.count(Place.id))) == len(rows):
        return
    session.execute(delete(Place))
    session.execute(
        insert(Place),
        [
            {
                "name": row["name"],
                "alternates": row["alternates"],
                "municipality_code": row["kommunekode"],
                "feature": row["feature"],
                "population": int(row["population"] or 0),
            }
            for row in rows
        ],
    )
    session.flush()


@dataclass(frozen=True)
class MunicipalityMatch:
    """A municipality found by a search, and the postal district or place that found it."""

    municipality: Municipality
    postnr: str | None = None
    city: str | None = None
    place: str | None = None  # a town, village, part of a city or island


_LEADING_NUMBER = re.compile(r"^\s*(\d{3,4})\b")


def search_municipalities(
    *, session: Session, query: str, participating_only: bool = False, limit: int = 10
) -> list[MunicipalityMatch]:
    """Municipalities for a name, code, postal code or place, as a caller says it; best first."""
    query = query.strip()
    if not query:
        return []
    index = place_index(session)
    number = _LEADING_NUMBER.match(query)
    found: list[Found] = []
    if number:  # a postal code ("8260", "9990 Skagen") or a municipality code ("751")
        code = number.group(1).zfill(4)
        found = [Found(e, 1.0) for e in index.by_postnr.get(code, [])]
        municipality = session.get(Municipality, code)
        if municipality is not None:
            found.append(Found(Entry(municipality.short_name, code, MUNICIPALITY), 1.1))
    if not found:  # also a number that is no code ("123 Aarhus"): the words
        found = index.find(query) or index.find_in_words(query)
    best: dict[str, Found] = {}
    for candidate in sorted(found, key=lambda f: f.order):
        best.setdefault(candidate.entry.code, candidate)
    matches = []
    for candidate in sorted(best.values(), key=lambda f: f.order):
        municipality = session.get(Municipality, candidate.entry.code)
        if municipality is None or (participating_only and not municipality.participating):
            continue
        matches.append(_match(municipality, candidate.entry))
        if len(matches) == limit:
            break
    return matches


def _match(municipality: Municipality, entry: Entry) -> MunicipalityMatch:
    if entry.postnr is not None:
        return MunicipalityMatch(municipality, entry.postnr, entry.label)
    if entry.kind == MUNICIPALITY:
        return MunicipalityMatch(municipality)
    return MunicipalityMatch(municipality, place=entry.label)


def get_municipality(*, session: Session, code: str) -> Municipality:
    """The municipality with this code, or NotFound."""
    municipality = session.get(Municipality, code)
    if municipality is None:
        raise NotFound("municipalities.not_found", code=code)
    return municipality


def line_for_dialled_number(*, session: Session, number: str | None) -> str | None:
    """The code of the participating municipality whose after-hours line has this number."""
    if not number:
        return None
    table = Municipality.__table__
    return session.scalar(
        select(table.c.code).where(table.c.dialled_number == number, table.c.participating)
    )


def list_participating(*, session: Session) -> list[Municipality]:
    """The municipalities in the hotline, by name."""
    return list(
        session.scalars(
            select(Municipality)
            .where(Municipality.participating.is_(True))
            .order_by(Municipality.name)
        )
    )
