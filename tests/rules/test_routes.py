"""The rule routes: JSON API and HTML views, and who may do what."""

from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from hotline.auth.models import Role
from hotline.rules.models import Rule, RuleDraft, RuleVersion
from hotline.rules.service import get_rule_history
from tests.rules.conftest import write_rule

BODY = {
    "expected_version": 0,
    "mode": "replace",
    "body_md": "Lokal tekst.",
    "fields": {"fee_dkk": 1006},
}


@pytest.fixture
def rules(kb, imported):
    write_rule(kb, "national/pas.md", "National pastekst.", title="Pas", fields={"fee_dkk": 891})
    write_rule(kb, "local/0461/pas.md", "Gå til Svendborg.", mode="not_offered")
    imported()


def _publish(code="0751", slug="pas") -> str:
    """The edit form's »Udgiv« button: saves the form as the draft and publishes it."""
    return f"/admin/rules/{code}/{slug}/draft/publish"


def _form(client, code="0751", **values):
    page = client.get(f"/admin/rules/{code}/pas")
    assert page.status_code == 200
    data = {
        "csrf_token": client.headers["X-CSRF-Token"],
        "expected_version": "0",
        "draft_revision": "0",
        "mode": "replace",
        "title": "",
        "body_md": "Aarhus tekst.",
        "agent_notes_md": "",
        "fee_dkk": "",
        "deadline": "",
        "phone": "",
        "self_service_url": "",
        "legal_basis": "",
        "valid_from": "2026-01-01",
    }
    data.update(values)
    return data


def test_agent_can_resolve_list_and_search(api_client, make_user, rules):
    client = api_client(make_user(Role.AGENT))

    resolved = client.get("/api/rules/resolve", params={"municipality": "0461", "topic": "pas"})
    topics = client.get("/api/rules/topics", params={"municipality": "0751"})
    found = client.get("/api/rules/search", params={"municipality": "0751", "q": "pastekst"})

    assert resolved.status_code == 200
    assert resolved.json()["not_offered"] is True
    assert resolved.json()["sections"][0]["provenance"]["scope"] == "0461"
    assert [t["slug"] for t in topics.json()] == ["pas"]
    assert [t["slug"] for t in found.json()] == ["pas"]


def test_resolve_as_of_a_date_and_unknown_topic(api_client, make_user, rules):
    client = api_client(make_user(Role.AGENT))
    params = {"municipality": "0751", "topic": "pas"}

    assert (
        client.get("/api/rules/resolve", params={**params, "on": "2025-12-31"}).status_code == 404
    )
    assert (
        client.get("/api/rules/resolve", params={**params, "on": "2026-02-01"}).status_code == 200
    )
    missing = client.get("/api/rules/resolve", params={**params, "topic": "nej"})
    assert missing.status_code == 404 and missing.json()["error"] == "rules.not_found"


def test_anonymous_gets_401(client, rules):
    assert client.get("/api/rules/topics", params={"municipality": "0751"}).status_code == 401
    assert client.put("/api/rules/local/0751/pas", json=BODY).status_code == 401


def test_admin_puts_own_municipality_and_gets_403_for_another(api_client, make_user, rules):
    client = api_client(make_user(Role.MUNICIPALITY_ADMIN, "0751"))

    saved = client.put("/api/rules/local/0751/pas", json=BODY)
    again = client.put("/api/rules/local/0751/pas", json=BODY)
    other = client.put("/api/rules/local/0851/pas", json=BODY)
    invalid = client.put("/api/rules/local/0751/pas", json={**BODY, "mode": "sometimes"})

    assert saved.status_code == 200 and saved.json()["version"] == 1
    assert again.status_code == 409 and again.json()["error"] == "rules.conflict"
    assert other.status_code == 403
    assert invalid.status_code == 422
    resolved = client.get("/api/rules/resolve", params={"municipality": "0751", "topic": "pas"})
    assert resolved.json()["mode"] == "replace" and resolved.json()["fields"][0]["value"] == 1006


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_agents_and_supervisors_may_not_edit(api_client, login, make_user, rules, role):
    user = make_user(role)
    assert api_client(user).put("/api/rules/local/0751/pas", json=BODY).status_code == 403
    client = login(user)
    assert client.get("/admin/rules/0751/pas").status_code == 403
    response = client.post(
        _publish(), data={"csrf_token": client.headers["X-CSRF-Token"], "body_md": "x"}
    )
    assert response.status_code == 403


def test_console_panel_lists_topics_and_detail_shows_provenance(login, make_user, rules):
    client = login(make_user(Role.AGENT))

    panel = client.get("/console/rules", params={"municipality": "0461"})
    only_list = client.get(
        "/console/rules",
        params={"municipality": "0461", "q": "zzz"},
        headers={"HX-Target": "rule-topics"},
    )
    detail = client.get("/console/rules/pas", params={"municipality": "0461"})
    national = client.get("/console/rules/pas", params={"municipality": "0751"})

    assert panel.status_code == 200
    assert (
        'id="rule-detail"' in panel.text
        and 'hx-get="/console/rules/pas?municipality=0461"' in panel.text
    )
    assert "Tilbydes ikke" in panel.text
    assert 'id="rule-detail"' not in only_list.text and "Ingen emner matcher" in only_list.text
    assert "Tilbydes ikke i Odense Kommune" in detail.text
    assert "Lokal · Odense Kommune · version 1" in detail.text
    assert 'data-cite-topic="pas"' in detail.text
    assert "National · version 1 · gældende fra 1. januar 2026" in national.text
    assert "891 kr." in national.text
    for page in (panel, detail):
        assert (
            "<script" not in page.text and "style=" not in page.text and "onclick" not in page.text
        )


def test_admin_form_publishes_and_redirects_with_confirmation(session, login, make_user, rules):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))

    response = client.post(_publish(), data=_form(client, fee_dkk="1006"), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/rules?municipality=0751&")
    page = client.get(response.headers["location"])
    assert "Den lokale regel »pas« er gemt som version 1." in page.text
    [version] = get_rule_history(session=session, topic_slug="pas", municipality_code="0751")
    assert (version.version, version.body_md) == (1, "Aarhus tekst.")

    resolved = client.get("/console/rules/pas", params={"municipality": "0751"})
    assert "Aarhus tekst." in resolved.text and "1.006 kr." in resolved.text


class _FormValues(HTMLParser):
    """The values a browser would submit from a page's form (inputs, selects, textareas)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._open: str | None = None  # the textarea or select being read
        self._textarea = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag in ("textarea", "select"):
            self._open, self._textarea = attrs["name"], tag == "textarea"
            self.values[self._open] = ""
        elif tag == "option" and self._open and "selected" in attrs:
            self.values[self._open] = attrs["value"]

    def handle_data(self, data):
        if self._open and self._textarea:
            self.values[self._open] += data

    def handle_endtag(self, tag):
        if tag in ("textarea", "select"):
            self._open = None


def _prefilled(client, code, slug) -> dict[str, str]:
    parser = _FormValues()
    parser.feed(client.get(f"/admin/rules/{code}/{slug}").text)
    return parser.values


def test_admin_typo_fix_keeps_tags_sources_and_dates(
    session, kb, imported, login, make_user, rules
):
    sources = [{"url": "https://www.aarhus.dk/pas", "verified": date(2026, 3, 2)}]
    write_rule(
        kb,
        "local/0751/pas.md",
        "Bestil tid i Borgerservice Aarhus, Rådhuset",
        mode="append",
        tags=["tidsbestilling", "rådhus"],
        sources=sources,
        valid_from=date(2026, 2, 1),
        valid_to=date(2027, 1, 1),
    )
    imported()
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    form = _prefilled(client, "0751", "pas")
    assert form["tags"] == "tidsbestilling, rådhus" and form["valid_from"] == "2026-02-01"

    form["body_md"] = form["body_md"].strip() + "."
    typo_fix = client.post(_publish(), data=form, follow_redirects=False)
    # A client that posts only the fields it edits keeps the rest too.
    older_form = {k: v for k, v in form.items() if k not in ("tags", "valid_from", "valid_to")}
    older_form.update(expected_version="2", body_md="Bestil tid i Borgerservice Aarhus.")
    partial = client.post(_publish(), data=older_form, follow_redirects=False)

    assert (typo_fix.status_code, partial.status_code) == (303, 303)
    session.expire_all()
    first, *fixes = reversed(
        get_rule_history(session=session, topic_slug="pas", municipality_code="0751")
    )
    assert [v.body_md for v in fixes] == [
        "Bestil tid i Borgerservice Aarhus, Rådhuset.",
        "Bestil tid i Borgerservice Aarhus.",
    ]
    for fix in fixes:
        assert fix.tags == ["tidsbestilling", "rådhus"]
        assert fix.sources == [{"url": "https://www.aarhus.dk/pas", "verified": "2026-03-02"}]
        assert (fix.valid_from, fix.valid_to) == (date(2026, 2, 1), date(2027, 1, 1))
        assert (fix.mode, fix.fields) == (first.mode, first.fields)


def test_admin_form_edits_tags_and_valid_to(session, login, make_user, rules):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    data = _form(client, tags=" aarhus, , ekspres ", valid_to="2026-07-01")

    saved = client.post(_publish(), data=data, follow_redirects=False)
    bad_dates = client.post(
        _publish(), data={**_prefilled(client, "0751", "pas"), "valid_to": "2025-12-31"}
    )

    assert saved.status_code == 303
    session.expire_all()
    [version] = get_rule_history(session=session, topic_slug="pas", municipality_code="0751")
    assert (version.tags, version.valid_to) == (["aarhus", "ekspres"], date(2026, 7, 1))
    assert bad_dates.status_code == 422
    assert "Reglen blev ikke udgivet" in bad_dates.text
    assert "»Gældende til« skal ligge efter »gældende fra«" in bad_dates.text
    assert session.scalars(select(RuleDraft)).all() == []


@pytest.mark.parametrize(
    "slug", ["Pas", "pas_2026", "-pas", "pas-", "pas--x", "p%C3%A5", "pas%20x", "a" * 101]
)
def test_put_refuses_a_slug_the_importer_would_refuse(session, api_client, make_user, slug):
    client = api_client(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    body = {**BODY, "mode": "local_only", "title": "Lokalt", "category": "Andet"}

    response = client.put(f"/api/rules/local/0751/{slug}", json=body)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "rules.invalid_slug"
    assert "små bogstaver a-z, cifre og enkelte bindestreger" in response.json()["detail"]
    assert session.scalars(select(Rule)).all() == []


def test_put_accepts_the_longest_valid_slug(api_client, make_user):
    client = api_client(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    body = {**BODY, "mode": "local_only", "title": "Lokalt", "category": "Andet"}

    assert client.put(f"/api/rules/local/0751/{'a' * 100}", json=body).status_code == 200
    assert client.put("/api/rules/local/0751/gratis-pas-2026", json=body).status_code == 200


def test_admin_form_bad_input_is_explained_in_danish_and_saves_nothing(
    session, login, make_user, rules
):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    versions = session.scalar(select(func.count(RuleVersion.id)))

    bad_fee = client.post(_publish(), data=_form(client, fee_dkk="gratis"))
    no_text = client.post(_publish(), data=_form(client, body_md=" "))

    assert bad_fee.status_code == 422
    assert "Reglen blev ikke udgivet" in bad_fee.text
    assert "Skriv gebyret som et helt antal kroner" in bad_fee.text
    assert 'value="gratis"' in bad_fee.text
    assert no_text.status_code == 422
    assert "Teksten til borgeren skal udfyldes" in no_text.text
    session.expire_all()
    assert session.scalar(select(func.count(RuleVersion.id))) == versions
    assert session.scalars(select(RuleDraft)).all() == []


def test_admin_may_not_open_another_municipality(login, make_user, rules):
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    assert client.get("/admin/rules/0851/pas").status_code == 403
    assert client.get("/admin/rules", params={"municipality": "0851"}).status_code == 403


def test_admin_overview_lists_stale_local_rules_first(
    session, kb, imported, login, make_user, rules
):
    write_rule(kb, "national/flytning.md", title="Flytning")
    write_rule(kb, "local/0751/flytning.md", mode="append")
    write_rule(kb, "local/0751/pas.md", mode="append")
    imported()
    write_rule(
        kb, "national/pas.md", "Ny national tekst.", title="Pas", valid_from=date(2026, 1, 1)
    )
    imported()
    client = login(make_user(Role.MUNICIPALITY_ADMIN, "0751"))

    page = client.get("/admin/rules").text

    assert page.index("Pas") < page.index("Flytning")
    assert "Forældet" in page
