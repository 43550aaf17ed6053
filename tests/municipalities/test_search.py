"""Finding the caller's municipality from what they say: names, postal districts and codes,
towns, parts of cities and islands, in any spelling."""

import csv

import pytest

from hotline.config import PROJECT_ROOT
from hotline.kit.danish import loose
from hotline.municipalities.picker import place_key
from hotline.municipalities.service import search_municipalities

CALLERS_SET = PROJECT_ROOT / "bench" / "data" / "places_as_callers_say.tsv"


def codes(matches):
    return [m.municipality.code for m in matches]


def find(session, query, limit=10):
    return search_municipalities(session=session, query=query, limit=limit)


def test_all_98_municipalities_and_the_places_are_loaded(session):
    from sqlalchemy import func, select

    from hotline.municipalities.models import Municipality, Place

    assert session.scalar(select(func.count()).select_from(Municipality)) == 98
    assert session.scalar(select(func.count()).select_from(Place)) > 7000


def test_names_starting_with_what_is_typed_come_after_an_exact_name(session):
    found = codes(find(session, "aa"))
    assert {"0580", "0851", "0751"} <= set(found[:4])  # Aabenraa, Aalborg, Aarhus
    assert codes(find(session, "aarhus")) == ["0751"]


def test_by_municipality_code_and_postal_code(session):
    assert codes(find(session, "751")) == ["0751"]
    [match] = find(session, "9990 Skagen")
    assert (match.municipality.code, match.postnr, match.city) == ("0813", "9990", "Skagen")


def test_a_postal_code_spanning_several_municipalities_lists_them_all(session):
    matches = find(session, "4100")
    assert len(matches) >= 2 and {m.postnr for m in matches} == {"4100"}
    assert codes(matches)[0] == "0329"  # Ringsted itself before its neighbours


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Skagen", "0813"),
        ("Nørresundby", "0851"),
        ("Risskov", "0751"),
        ("Viby J", "0751"),
        ("Kongens Lyngby", "0173"),
        ("Kgs. Lyngby", "0173"),
        ("Aarhus C", "0751"),
        ("Kobenhavn", "0101"),
        ("Bronderslev", "0810"),
        ("Naestved", "0370"),
        ("Silkebrog", "0740"),
        ("Fanø", "0563"),
        ("jeg bor i Skagen", "0813"),
    ],
)
def test_places_as_callers_say_them(session, query, code):
    assert codes(find(session, query))[0] == code


def test_a_name_in_several_municipalities_lists_each_postal_town_first(session):
    matches = find(session, "Lystrup")
    assert codes(matches)[0] == "0751"  # the postal town 8520 Lystrup
    assert len(set(codes(matches))) >= 3
    [aarhus, *others] = matches
    assert aarhus.postnr == "8520" and all(m.place == "Lystrup" for m in others)


def test_each_match_says_what_found_it(session):
    [skagen] = find(session, "skagen", limit=1)
    assert (skagen.postnr, skagen.city, skagen.place) == ("9990", "Skagen", None)
    [island] = find(session, "Læsø", limit=1)
    assert island.municipality.code == "0825"
    brabrand = find(session, "Brabrand", limit=1)[0]
    assert brabrand.municipality.code == "0751"


def test_participating_only(session):
    from sqlalchemy import update

    from hotline.municipalities.models import Municipality

    session.execute(
        update(Municipality).where(Municipality.code == "0751").values(participating=True)
    )
    session.commit()
    assert codes(
        search_municipalities(session=session, query="lystrup", participating_only=True)
    ) == ["0751"]


def test_the_api_returns_the_ranked_matches(api_client, make_user):
    from hotline.auth.models import Role

    client = api_client(make_user(Role.AGENT))
    body = client.get("/api/municipalities", params={"q": "Risskov"}).json()
    assert body[0]["municipality"]["code"] == "0751" and body[0]["postnr"] == "8240"
    assert client.get("/api/municipalities", params={"q": "Hasseris"}).json()[0]["place"] == (
        "Hasseris"
    )


def _rows():
    with open(CALLERS_SET, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_the_callers_set_is_backed_by_the_data(session):
    """Each row's municipality has a name in the data within two typos of the query (or has its
    postal code): the set tests the picker, not a guess."""
    from rapidfuzz.distance import OSA
    from sqlalchemy import select

    from hotline.municipalities.models import Municipality, Place, PostalCode

    names: dict[str, set[str]] = {}
    for code, name in session.execute(select(Municipality.code, Municipality.name)):
        names.setdefault(code, set()).add(place_key(name))
    for code, name, alternates in session.execute(
        select(Place.municipality_code, Place.name, Place.alternates)
    ):
        names.setdefault(code, set()).update(place_key(n) for n in [name, *alternates.split("|")])
    postal = {}
    for postnr, code, city in session.execute(
        select(PostalCode.postnr, PostalCode.municipality_code, PostalCode.city)
    ):
        names.setdefault(code, set()).add(place_key(city))
        postal.setdefault(postnr, set()).add(code)
    for row in _rows():
        # The first code is the main one; the others may be named only in the note (an island
        # shared by several municipalities).
        code, query = row["expect_codes"].split("|")[0], row["query"]
        if query.split()[0].isdigit():
            assert code in postal[query.split()[0].zfill(4)], row
            continue
        key = loose(place_key(query))
        assert any(
            loose(name).startswith(key) or OSA.distance(key, loose(name)) <= 2
            for name in names[code]
        ), row


def test_the_callers_set_meets_its_target(session):
    rows = _rows()
    hit3 = sum(
        bool(set(row["expect_codes"].split("|")) & set(codes(find(session, row["query"]))[:3]))
        for row in rows
    )
    assert hit3 / len(rows) >= 0.95
