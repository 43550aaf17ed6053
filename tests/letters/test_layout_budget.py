"""A reply that would take the PDF renderer too long is refused first, saying why in Danish."""

import pytest

from hotline.documents.layout_budget import MAX_LAYOUT_UNITS, MAX_TABLE_COLUMNS, layout_problem
from tests.letters.conftest import reply_form

PROSE = ("Du kan forny dit pas i Borgerservice, når du har bestilt tid. " * 6 + "\n\n") * 50


def _table(columns: int, rows: int, cell: str = "x") -> str:
    line = "|" + "|".join([cell] * columns) + "|\n"
    return line + "|" + "-|" * columns + "\n" + line * rows


@pytest.mark.parametrize(
    "body",
    [
        PROSE[:20_000],
        _table(6, 20, "kr. 627,00"),
        "\n".join(f"- punkt {n}" for n in range(100)),
        "Linje\n" * 200,
        "**Vigtigt:** husk *gyldigt* billed-id og [mitid.dk](https://mitid.dk).\n\n" * 40,
    ],
    ids=["20,000 characters of prose", "6 x 20 table", "100 list items", "200 lines", "markup"],
)
def test_letters_as_agents_write_them_fit(body):
    assert layout_problem(body) is None


def test_a_table_wider_than_a_letter_is_refused_with_its_width():
    problem = layout_problem("Satser:\n\n" + _table(1000, 1))
    assert (problem.limit, problem.count, problem.max) == (
        "too_many_columns",
        1000,
        MAX_TABLE_COLUMNS,
    )
    assert layout_problem(_table(MAX_TABLE_COLUMNS, 3)) is None
    assert layout_problem(_table(MAX_TABLE_COLUMNS + 1, 3)).limit == "too_many_columns"


@pytest.mark.parametrize(
    "body",
    [
        "ord\n" * (MAX_LAYOUT_UNITS + 1),
        "- a\n" * (MAX_LAYOUT_UNITS // 2 + 1),
        "## a\n" * (MAX_LAYOUT_UNITS + 1),
        "*a* " * 5000,
        _table(8, 74, "ordord ordord ordord ordord ordord"),
        "```\n" + "x\n" * (MAX_LAYOUT_UNITS + 1) + "```",
    ],
    ids=["lines", "list items", "headings", "emphasis", "wrapping table cells", "code lines"],
)
def test_text_that_asks_for_too_much_layout_is_refused(body):
    problem = layout_problem(body)
    assert problem.limit == "too_much_layout"
    assert problem.count > problem.max == MAX_LAYOUT_UNITS


def test_the_budget_counts_exactly_at_the_limit():
    assert layout_problem("ord\n" * MAX_LAYOUT_UNITS) is None  # 599 breaks and a paragraph


def test_the_api_says_why_in_danish(call, agent, api_client):
    form = reply_form(body_md="Satser:\n\n" + _table(1000, 1))
    response = api_client(agent).post(
        f"/api/calls/{call.id}/replies", json=form.model_dump(mode="json")
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "En tabel i svaret har 1000 kolonner; et brev kan højst vise 8. Del tabellen op."
    )
    response = api_client(agent).post(
        f"/api/calls/{call.id}/replies",
        json=reply_form(body_md="- a\n" * 400).model_dump(mode="json"),
    )
    assert response.status_code == 422
    assert "for omfattende til et brev: 800" in response.json()["detail"]
    assert "højst 600" in response.json()["detail"]


@pytest.mark.parametrize("mark", ["\u05b8", "\u064e", "\u0301"], ids=["hebrew", "arabic", "acute"])
def test_a_character_under_a_pile_of_marks_is_refused(mark):
    problem = layout_problem("Svar: a" + mark * 19_000)
    assert (problem.limit, problem.count) == ("too_many_marks", 19_000)
    # Real text stacks a few: Vietnamese, pointed Hebrew and vocalised Arabic fit.
    assert layout_problem("Tiếng Việt, שָׁלוֹם, مَرْحَبًا, e\u0301\u0302\u0303") is None
