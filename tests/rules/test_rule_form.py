"""The admin's rule form: every problem found in one pass and shown at its own field (DKFDS)."""

from datetime import date
from html.parser import HTMLParser

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from hotline.auth.models import Role
from hotline.rules.models import RuleDraft, RuleVersion
from hotline.rules.schemas import LocalRuleIn
from tests.rules.conftest import write_rule

FIELDS = ("mode", "title", "tags", "body_md", "agent_notes_md", "fee_dkk", "deadline", "phone")
FIELDS += ("self_service_url", "legal_basis", "valid_from", "valid_to")
BAD = {
    "body_md": " ",
    "fee_dkk": "gratis",
    "self_service_url": "aarhus.dk/pas",
    "valid_from": "2026-05-01",
    "valid_to": "2026-04-01",  # before valid_from
}
MESSAGES = {
    "body_md": "Teksten til borgeren skal udfyldes.",
    "fee_dkk": "Skriv gebyret som et helt antal kroner med cifre, fx 1006 (0 for gratis).",
    "self_service_url": "Selvbetjeningslinket skal være en webadresse, der begynder med https://",
    "valid_to": "»Gældende til« skal ligge efter »gældende fra«.",
}


@pytest.fixture
def rules(kb, imported):
    write_rule(kb, "national/pas.md", "National pastekst.", title="Pas", fields={"fee_dkk": 891})
    write_rule(
        kb,
        "local/0751/storskrald.md",
        "Ring og bestil.",
        mode="local_only",
        title="S",
        category="Affald",
    )
    imported()


class _FormPage(HTMLParser):
    """Each form group's control and error message, and the error summary's links."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: dict[str, dict] = {}  # by the id of the group's control
        self.summary: list[tuple[str, str]] = []  # (href, text)
        self._divs: list[dict | None] = []  # open divs; a form group's record where one opened
        self._text_of: dict | None = None  # the record whose error message is being read
        self._spans = 0  # spans open inside that error message
        self._in_summary = False
        self._link: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "div":
            self._divs.append({"classes": classes} if "form-group" in classes else None)
            self._in_summary = self._in_summary or attrs.get("id") == "error-summary"
        if tag == "span" and self._text_of is not None:
            self._spans += 1
            return
        group = next((g for g in reversed(self._divs) if g is not None), None)
        if group is None:
            if self._in_summary and tag == "a":
                self._link = attrs.get("href")
                self.summary.append((self._link, ""))
            return
        if tag in ("input", "select", "textarea") and attrs.get("id"):
            group.update(control=attrs)
            self.groups[attrs["id"]] = group
        elif tag == "span" and "form-error-message" in classes:
            group.update(error_id=attrs.get("id"), error="")
            self._text_of, self._spans = group, 1

    def handle_endtag(self, tag):
        if tag == "div" and self._divs:
            self._divs.pop()
        elif tag == "span" and self._text_of is not None:
            self._spans -= 1
            if not self._spans:
                self._text_of = None
        elif tag == "a":
            self._link = None
        if tag == "ul":
            self._in_summary = False

    def handle_data(self, data):
        if self._text_of is not None:
            self._text_of["error"] += data
        if self._link is not None:
            href, text = self.summary[-1]
            self.summary[-1] = (href, text + data)


def _form(client, slug="pas", **values) -> dict[str, str]:
    assert client.get(f"/admin/rules/0751/{slug}").status_code == 200
    data = dict.fromkeys(FIELDS, "")
    data.update(
        csrf_token=client.headers["X-CSRF-Token"],
        expected_version="0",
        draft_revision="0",
        mode="replace",
        body_md="Aarhus tekst.",
        valid_from="2026-01-01",
    )
    return {**data, **values}


def _page(html: str) -> _FormPage:
    page = _FormPage()
    page.feed(html)
    return page


def _assert_errors_at_fields(page: _FormPage, expected: dict[str, str]) -> None:
    for field, group in page.groups.items():
        control = group["control"]
        if field not in expected:
            assert "form-error" not in group["classes"] and "error" not in group, field
            assert "aria-invalid" not in control, field
            continue
        assert "form-error" in group["classes"], field
        assert group["error_id"] == f"{field}-error"
        assert expected[field] in group["error"], (field, group["error"])
        assert group["error"].startswith("Fejl: "), "the hidden prefix for screen readers"
        assert f"{field}-error" in control["aria-describedby"].split()
        assert control["aria-invalid"] == "true"
    assert set(expected) <= set(page.groups)
    # The summary links to each field in the form's order, with the same message.
    assert [href for href, _ in page.summary] == [f"#{field}" for field in expected]
    for (_, text), message in zip(page.summary, expected.values(), strict=True):
        assert message in text


def test_the_rule_schema_reports_every_problem_at_its_field():
    with pytest.raises(ValidationError) as caught:
        LocalRuleIn(
            mode="local_only",
            title=" ",
            body_md="",
            fields={"fee_dkk": "gratis", "self_service_url": "ftp://x"},
            valid_from=date(2026, 5, 1),
            valid_to=date(2026, 4, 1),
        )

    found = {(e["loc"], e["type"]) for e in caught.value.errors()}
    assert found == {
        (("title",), "title_required"),
        (("category",), "category_required"),
        (("body_md",), "body_required"),
        (("fields", "fee_dkk"), "int_parsing"),
        (("fields", "self_service_url"), "value_error"),
        (("valid_to",), "dates_order"),
    }
    with pytest.raises(ValidationError, match="body_md is required"):
        LocalRuleIn(mode="replace")  # left out counts as empty


def test_the_api_reports_every_problem_at_once(api_client, make_user, rules):
    client = api_client(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    body = {"expected_version": 0, "mode": "replace", "body_md": " ", "fields": {"fee_dkk": -1}}
    body.update(valid_from="2026-05-01", valid_to="2026-05-01")

    response = client.put("/api/rules/local/0751/pas", json=body)

    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"body.body_md", "body.fields.fee_dkk", "body.valid_to"}


@pytest.mark.parametrize("action", ["", "/publish", "/preview"])
def test_a_draft_with_several_problems_shows_each_at_its_field(
    session, login, make_user, rules, action
):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    versions = session.scalar(select(func.count(RuleVersion.id)))

    response = client.post(f"/admin/rules/0751/pas/draft{action}", data=_form(client, **BAD))

    assert response.status_code == 422
    page = _page(response.text)
    _assert_errors_at_fields(page, MESSAGES)
    heading = {"": "Kladden blev ikke gemt", "/publish": "Reglen blev ikke udgivet"}
    assert heading.get(action, "Forhåndsvisningen kan ikke vises") in response.text
    assert 'data-module="error-summary"' in response.text and 'tabindex="-1"' in response.text
    assert "<title>Fejl: " in response.text
    # The admin's input stays in the form.
    assert 'value="gratis"' in response.text and 'value="aarhus.dk/pas"' in response.text
    session.expire_all()
    assert session.scalar(select(func.count(RuleVersion.id))) == versions
    assert session.scalars(select(RuleDraft)).all() == []


def test_a_local_only_rule_needs_its_title_and_category(login, make_user, rules):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    data = _form(client, "storskrald", mode="local_only", title="", category="", fee_dkk="-5")
    data["expected_version"] = "1"

    response = client.post("/admin/rules/0751/storskrald/draft/publish", data=data)

    assert response.status_code == 422
    title, category = "Skriv en titel", "Skriv en kategori"
    expected = {"title": title, "category": category, "fee_dkk": MESSAGES["fee_dkk"]}
    _assert_errors_at_fields(_page(response.text), expected)


def test_a_valid_form_has_no_error_marks(login, make_user, rules):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))

    page = client.get("/admin/rules/0751/pas")

    assert "form-error" not in page.text and "aria-invalid" not in page.text
    assert 'id="error-summary"' not in page.text
    published = client.post("/admin/rules/0751/pas/draft/publish", data=_form(client))
    assert published.status_code == 200 and "er gemt som version 1" in published.text


def test_the_htmx_preview_lists_the_problems_with_links_to_the_fields(login, make_user, rules):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))

    fragment = client.post(
        "/admin/rules/0751/pas/draft/preview",
        data=_form(client, **BAD),
        headers={"HX-Request": "true"},
    )

    assert fragment.status_code == 422  # htmx swaps it (base.html's htmx-config)
    for field, message in MESSAGES.items():
        assert f'href="#{field}">{message}' in fragment.text
    assert 'class="hl-rule"' not in fragment.text
