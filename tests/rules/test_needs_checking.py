"""A rule whose sources were not verified within the configured period is "needs checking"."""

from datetime import date, timedelta

from hotline.auth.models import Role
from hotline.config import Settings
from hotline.rules.resolve import list_resolved_topics, resolve_rule, today_in_denmark
from tests.rules.conftest import search_rules, write_rule

ON = date(2026, 6, 1)


def _source(days_before: int, on: date = ON, url: str = "https://www.borger.dk/") -> dict:
    return {"url": url, "verified": on - timedelta(days=days_before)}


def _resolve(session, topic: str, code: str = "0101", **kwargs):
    return resolve_rule(session=session, topic_slug=topic, municipality_code=code, on=ON, **kwargs)


def test_rule_verified_400_days_ago_is_flagged_and_30_days_ago_is_not(session, kb, imported):
    write_rule(kb, "national/gammel.md", sources=[_source(400)])
    write_rule(kb, "national/frisk.md", sources=[_source(30)])
    write_rule(kb, "national/blandet.md", sources=[_source(30), _source(800)])
    write_rule(kb, "national/graense.md", sources=[_source(365)])
    imported()

    assert _resolve(session, "gammel").needs_checking
    assert not _resolve(session, "frisk").needs_checking
    assert not _resolve(session, "blandet").needs_checking  # the newest check counts
    assert not _resolve(session, "graense").needs_checking  # exactly the period: still fine
    topics = list_resolved_topics(session=session, municipality_code="0101", on=ON)
    assert {t.slug: t.needs_checking for t in topics} == {
        "gammel": True,
        "frisk": False,
        "blandet": False,
        "graense": False,
    }
    found = search_rules(session=session, municipality_code="0101", query="titel", on=ON)
    assert {t.slug for t in found if t.needs_checking} == {"gammel"}


def test_the_period_is_an_argument(session, kb, imported):
    write_rule(kb, "national/frisk.md", sources=[_source(30)])
    imported()

    assert _resolve(session, "frisk", verify_after_days=20).needs_checking
    assert not _resolve(session, "frisk", verify_after_days=30).needs_checking
    topics = list_resolved_topics(
        session=session, municipality_code="0101", on=ON, verify_after_days=20
    )
    assert [t.needs_checking for t in topics] == [True]


def test_local_sources_count_for_the_local_part(session, kb, imported):
    write_rule(kb, "national/pas.md", sources=[_source(400)])
    write_rule(
        kb, "local/0751/pas.md", mode="replace", sources=[_source(30, url="https://aarhus.dk/")]
    )
    write_rule(kb, "local/0851/pas.md", mode="append")  # cites nothing of its own
    write_rule(
        kb,
        "local/0751/storskrald.md",
        mode="local_only",
        title="Storskrald",
        category="Affald",
        sources=[_source(10)],
    )
    write_rule(kb, "local/0851/genbrug.md", mode="local_only", title="Genbrug", category="Affald")
    imported()

    assert _resolve(session, "pas", "0101").needs_checking  # national only, 400 days
    assert not _resolve(session, "pas", "0751").needs_checking  # checked locally 30 days ago
    assert _resolve(session, "pas", "0851").needs_checking  # only the old national check
    assert not _resolve(session, "storskrald", "0751").needs_checking
    assert _resolve(session, "genbrug", "0851").needs_checking  # no sources at all
    aarhus = list_resolved_topics(session=session, municipality_code="0751", on=ON)
    assert {t.slug: t.needs_checking for t in aarhus} == {"pas": False, "storskrald": False}


def test_setting_is_read_from_the_environment(monkeypatch):
    assert Settings().rules_verify_after_days == 365
    monkeypatch.setenv("HOTLINE_RULES_VERIFY_AFTER_DAYS", "90")
    assert Settings().rules_verify_after_days == 90


def test_console_and_api_show_the_flag_with_the_configured_period(
    settings, login, api_client, make_user, kb, imported
):
    today = today_in_denmark()
    write_rule(kb, "national/pas.md", "Pas.", title="Pas", sources=[_source(400, today)])
    write_rule(kb, "national/flytning.md", "Flyt.", title="Flytning", sources=[_source(5, today)])
    imported()
    agent = make_user(Role.AGENT)
    client = login(agent)

    panel = client.get("/console/rules", params={"municipality": "0751"})
    old = client.get("/console/rules/pas", params={"municipality": "0751"})
    fresh = client.get("/console/rules/flytning", params={"municipality": "0751"})

    assert panel.text.count("Skal tjekkes") == 1
    assert "Skal tjekkes" in old.text and "de seneste 365 dage" in old.text
    assert "Skal tjekkes" not in fresh.text
    api = api_client(agent)
    resolved = api.get("/api/rules/resolve", params={"municipality": "0751", "topic": "pas"})
    assert resolved.json()["needs_checking"] is True

    settings.rules_verify_after_days = 1000  # the app reads its settings on each request
    assert (
        "Skal tjekkes" not in client.get("/console/rules/pas", params={"municipality": "0751"}).text
    )
    topics = api.get("/api/rules/topics", params={"municipality": "0751"}).json()
    assert [t["needs_checking"] for t in topics] == [False, False]
