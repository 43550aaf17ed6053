"""Finding the caller's municipality by name, code or postal code."""

from hotline.municipalities.service import search_municipalities


def codes(matches):
    return [m.municipality.code for m in matches]


def test_all_98_municipalities_are_loaded(session):
    from sqlalchemy import func, select

    from hotline.municipalities.models import Municipality

    assert session.scalar(select(func.count()).select_from(Municipality)) == 98


def test_search_by_name_prefers_names_starting_with_the_query(session):
    matches = search_municipalities(session=session, query="aa")
    assert codes(matches)[:3] == ["0580", "0851", "0751"]  # Aabenraa, Aalborg, Aarhus


def test_search_by_code(session):
    assert codes(search_municipalities(session=session, query="751")) == ["0751"]


def test_postal_code_spanning_several_municipalities_lists_them_all(session):
    matches = search_municipalities(session=session, query="4100")
    assert len(matches) >= 2
    assert {m.postnr for m in matches} == {"4100"}
    assert "0329" in codes(matches)  # Ringsted
