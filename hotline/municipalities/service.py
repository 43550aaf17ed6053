"""Municipalities: loading the shipped data, finding one by name, code, postal code or line."""

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.kit.errors import NotFound
from hotline.municipalities.models import Municipality, PostalCode

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
    _load_postal_codes(session=session, known_codes={row["kommunekode"] for row in rows})
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


@dataclass(frozen=True)
class MunicipalityMatch:
    """A municipality found by a search, and the postal code that matched, if any."""

    municipality: Municipality
    postnr: str | None = None
    city: str | None = None


def search_municipalities(
    *, session: Session, query: str, participating_only: bool = False, limit: int = 10
) -> list[MunicipalityMatch]:
    """Municipalities matching a name, a 3–4 digit code or a postal code."""
    query = query.strip()
    if not query:
        return []
    matches: list[MunicipalityMatch] = []
    if query.isdigit():
        code = query.zfill(4)
        stmt = select(Municipality, PostalCode).join(PostalCode).where(PostalCode.postnr == code)
        for municipality, postal in session.execute(stmt.order_by(Municipality.name)):
            matches.append(MunicipalityMatch(municipality, postal.postnr, postal.city))
        by_code = session.get(Municipality, code)
        if by_code is not None and all(m.municipality.code != code for m in matches):
            matches.insert(0, MunicipalityMatch(by_code))
    else:
        pattern = f"%{query.lower()}%"
        stmt = select(Municipality).where(func.lower(Municipality.name).like(pattern))
        # Names starting with the query first ("Aa" → Aabenraa, Aalborg, Aarhus before Faaborg).
        starts = func.lower(Municipality.name).like(f"{query.lower()}%")
        stmt = stmt.order_by(starts.desc(), Municipality.name).limit(limit)
        matches = [MunicipalityMatch(m) for m in session.scalars(stmt)]
    if participating_only:
        matches = [m for m in matches if m.municipality.participating]
    return matches[:limit]


def get_municipality(*, session: Session, code: str) -> Municipality:
    """The municipality with this code, or NotFound."""
    municipality = session.get(Municipality, code)
    if municipality is None:
        raise NotFound("municipalities.not_found", code=code)
    return municipality


def municipality_for_dialled_number(*, session: Session, number: str | None) -> Municipality | None:
    """The participating municipality whose after-hours line has this number."""
    if not number:
        return None
    return session.scalar(
        select(Municipality).where(
            Municipality.dialled_number == number, Municipality.participating.is_(True)
        )
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
