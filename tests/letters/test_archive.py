"""The letters archive: search filters, who sees what, Copenhagen days, paging, purged replies."""

import hashlib
import itertools
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import inspect, select

from hotline.auth.models import Role
from hotline.kit.errors import InvalidInput, PermissionDenied
from hotline.letters.archive import search_archive
from hotline.letters.models import Channel, Reply, ReplyStatus
from hotline.rules.models import Rule, RuleVersion

_numbers = itertools.count(1)


@pytest.fixture
def make_reply(session, agent):
    """Archive a reply directly (no rendering): make_reply(municipality_code="0851", ...)."""

    def factory(**changes) -> Reply:
        number = next(_numbers)
        pdf = f"%PDF-1.7 svar {number}".encode()
        values = dict(
            reference=f"HL-2026-{number:06d}",
            municipality_code="0751",
            author_id=agent.id,
            author_name=agent.full_name,
            channel=Channel.EMAIL,
            recipient_name="Søren Østergård",
            recipient_address="Åboulevarden 12\n8000 Aarhus C",
            recipient_email="soren@borger.example",
            subject="Svar på din henvendelse om pas",
            body_md="Kære Søren",
            cited_rules=[],
            status=ReplyStatus.SENT,
            pdf=pdf,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            created_at=datetime(2026, 11, 23, 13, 5, tzinfo=UTC),
        )
        values.update(changes)
        reply = Reply(**values)
        session.add(reply)
        session.commit()
        return reply

    return factory


@pytest.fixture
def supervisor(make_user):
    return make_user(Role.SUPERVISOR, full_name="Sven Supervisor")


@pytest.fixture
def admin_aarhus(make_user):
    return make_user(Role.MUNICIPALITY_ADMIN, "0751", username="admin-aarhus")


def _refs(page) -> list[str]:
    return [reply.reference for reply in page.items]


def test_supervisors_and_system_admins_see_every_municipality_newest_first(
    session, make_reply, supervisor, make_user
):
    older = make_reply(created_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    newer = make_reply(municipality_code="0851", created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))

    for user in (supervisor, make_user(Role.SYSTEM_ADMIN)):
        page = search_archive(session, user)
        assert _refs(page) == [newer.reference, older.reference]
        assert page.total == 2
        only_aalborg = search_archive(session, user, municipality_code="0851")
        assert _refs(only_aalborg) == [newer.reference]


def test_a_municipality_admin_sees_only_their_own(session, make_reply, admin_aarhus, api_client):
    aarhus = make_reply()
    make_reply(municipality_code="0851")

    assert _refs(search_archive(session, admin_aarhus)) == [aarhus.reference]
    assert _refs(search_archive(session, admin_aarhus, municipality_code="0751")) == [
        aarhus.reference
    ]
    with pytest.raises(PermissionDenied):
        search_archive(session, admin_aarhus, municipality_code="0851")

    client = api_client(admin_aarhus)
    body = client.get("/api/archive").json()
    assert [item["reference"] for item in body["items"]] == [aarhus.reference]
    assert client.get("/api/archive", params={"municipality": "0851"}).status_code == 403


def test_agents_may_not_search_the_archive(session, make_reply, agent, api_client, login):
    make_reply()
    with pytest.raises(PermissionDenied):
        search_archive(session, agent)
    assert api_client(agent).get("/api/archive").status_code == 403
    assert login(agent).get("/arkiv", headers={"Accept": "text/html"}).status_code == 403


def test_text_search(session, make_reply, supervisor):
    pas = make_reply(reference="HL-2026-100001", subject="Pas – fornyelse")
    skrald = make_reply(
        reference="HL-2026-200002",
        subject="Storskrald",
        recipient_name="Ærbødige Åse",
        recipient_email="AASE@Post.example",
    )

    def found(q: str) -> set[str]:
        return set(_refs(search_archive(session, supervisor, q=q)))

    assert found("HL-2026-100001") == {pas.reference}  # exact
    assert found("hl-2026-2") == {skrald.reference}  # prefix, any case
    assert found("2026-100001") == set()  # a reference matches from its start only
    assert found("FORNYELSE") == {pas.reference}  # subject, substring
    assert found("østergård") == {pas.reference}  # Danish letters fold on SQLite too
    assert found("ÆRBØDIGE åse") == {skrald.reference}
    assert found("post.EXAMPLE") == {skrald.reference}  # e-mail, substring
    assert found("%") == set()  # wildcards are text, not patterns
    assert found("  ") == {pas.reference, skrald.reference}  # blank: no filter


def test_dates_are_copenhagen_days(session, make_reply, supervisor):
    # 23:30 UTC on 23 November is 00:30 on 24 November in Copenhagen (CET, UTC+1).
    late = make_reply(created_at=datetime(2026, 11, 23, 23, 30, tzinfo=UTC))
    # 22:59 UTC is 23:59 on the 23rd locally.
    evening = make_reply(created_at=datetime(2026, 11, 23, 22, 59, tzinfo=UTC))
    # Summer time (CEST, UTC+2): 22:30 UTC on 30 June is 00:30 on 1 July.
    summer = make_reply(created_at=datetime(2026, 6, 30, 22, 30, tzinfo=UTC))

    def found(start: date | None, end: date | None) -> set[str]:
        return set(_refs(search_archive(session, supervisor, date_from=start, date_to=end)))

    day_23, day_24 = date(2026, 11, 23), date(2026, 11, 24)
    assert found(day_24, day_24) == {late.reference}
    assert found(day_23, day_23) == {evening.reference}  # "to" includes the whole day
    assert found(None, day_23) == {evening.reference, summer.reference}
    assert found(day_24, None) == {late.reference}
    assert found(date(2026, 7, 1), date(2026, 7, 1)) == {summer.reference}
    assert found(date(2026, 6, 30), date(2026, 6, 30)) == set()
    with pytest.raises(InvalidInput):
        found(day_24, day_23)


def test_channel_and_status_filters(session, make_reply, supervisor, api_client):
    letter = make_reply(channel=Channel.PDF, status=ReplyStatus.DOWNLOADED)
    failed = make_reply(status=ReplyStatus.FAILED, last_error="550 mailbox unavailable")
    make_reply()

    assert _refs(search_archive(session, supervisor, channel=Channel.PDF)) == [letter.reference]
    assert _refs(search_archive(session, supervisor, status=ReplyStatus.FAILED)) == [
        failed.reference
    ]
    client = api_client(supervisor)
    body = client.get("/api/archive", params={"channel": "email", "status": "failed"}).json()
    assert [item["reference"] for item in body["items"]] == [failed.reference]


def test_pagination(session, make_reply, supervisor, api_client):
    replies = [
        make_reply(created_at=datetime(2026, 11, day, 12, 0, tzinfo=UTC)) for day in range(1, 6)
    ]
    newest_first = [r.reference for r in reversed(replies)]

    first = search_archive(session, supervisor, per_page=2)
    last = search_archive(session, supervisor, page=3, per_page=2)
    assert _refs(first) == newest_first[:2] and first.total == 5 and first.pages == 3
    assert first.has_next and not first.has_previous
    assert _refs(last) == newest_first[4:] and last.has_previous and not last.has_next

    client = api_client(supervisor)
    body = client.get("/api/archive", params={"page": 2, "per_page": 2}).json()
    assert (body["total"], body["page"], body["per_page"]) == (5, 2, 2)
    assert [item["reference"] for item in body["items"]] == newest_first[2:4]
    assert all("pdf" not in item and "purged_at" in item for item in body["items"])


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": 201},
        {"page": 0},
        {"municipality": "751"},
        {"municipality": "0751; drop"},
        {"from": "23-11-2026"},
        {"to": "2026-02-30"},
        {"channel": "fax"},
        {"status": "lost"},
    ],
)
def test_api_validates_its_parameters(supervisor, api_client, params):
    assert api_client(supervisor).get("/api/archive", params=params).status_code == 422


def test_the_list_query_does_not_load_the_pdf(session, make_reply, supervisor):
    make_reply()
    session.expunge_all()  # the search must load the reply itself, not find it in the session

    [reply] = search_archive(session, supervisor).items

    assert "pdf" in inspect(reply).unloaded
    assert reply.pdf_sha256  # the rest is there


def test_purged_replies_are_listed_without_download_and_their_pdf_is_gone(
    session, make_reply, supervisor, api_client, login
):
    kept = make_reply()
    purged = make_reply(
        recipient_name="",
        recipient_address="",
        recipient_email=None,
        body_md="",
        pdf=b"",
        purged_at=datetime(2026, 12, 1, tzinfo=UTC),
    )

    client = api_client(supervisor)
    items = {i["id"]: i for i in client.get("/api/archive").json()["items"]}
    assert items[purged.id]["purged_at"] is not None and items[kept.id]["purged_at"] is None
    response = client.get(f"/api/replies/{purged.id}.pdf")
    assert response.status_code == 410
    assert response.json()["detail"] == (
        "Svaret er slettet efter opbevaringsperioden; PDF'en findes ikke længere."
    )
    assert client.get(f"/api/replies/{kept.id}.pdf").status_code == 200

    html = login(supervisor).get("/arkiv").text
    purged_row = _row(html, purged.id)
    assert "Slettet efter opbevaringsperioden" in purged_row and ".pdf" not in purged_row
    assert f'href="/api/replies/{kept.id}.pdf"' in _row(html, kept.id)


def _row(html: str, reply_id: int) -> str:
    match = re.search(rf'<tr id="archive-reply-{reply_id}".*?</tr>', html, re.S)
    assert match, f"no row for reply {reply_id}"
    return match.group(0)


def test_the_archive_page_shows_the_replies(session, make_reply, admin_aarhus, login, rules):
    def version_id(code: str | None) -> int:
        rule = Rule.municipality_code.is_(None) if code is None else Rule.municipality_code == code
        return session.scalar(
            select(RuleVersion.id).join(Rule).where(Rule.topic_slug == "pas", rule)
        )

    cited = {"topic": "pas", "rule_version_ids": [version_id(None), version_id("0751")]}
    reply = make_reply(cited_rules=[cited])
    make_reply(municipality_code="0851", subject="Aalborgs svar")

    response = login(admin_aarhus).get("/arkiv")

    html = response.text
    assert response.status_code == 200
    row = _row(html, reply.id)
    for expected in (
        reply.reference,
        "23. november 2026 kl. 14.05",  # 13:05 UTC is 14:05 in Copenhagen in November
        "Aarhus Kommune",
        "E-mail",
        "Søren Østergård",
        "soren@borger.example",
        "Svar på din henvendelse om pas",
        "Karen Ærbødig",
        "Sendt",
        f'title="{reply.pdf_sha256}">{reply.pdf_sha256[:12]}',
        "pas (national version 1, lokal version 1)",
        f'href="/api/replies/{reply.id}.pdf"',
    ):
        assert expected in row, expected
    assert "Aalborgs svar" not in html
    assert 'href="/arkiv" aria-current=page>Arkiv</a>' in html
    assert 'hx-get="/arkiv"' in html and 'hx-push-url="true"' in html
    assert '<form method="get" action="/arkiv"' in html  # works without JavaScript too
    assert '<option value="0751"' in html and '<option value="0851"' not in html
    assert "<script>" not in html and "style=" not in html


def test_htmx_gets_the_results_fragment(make_reply, supervisor, login):
    reply = make_reply(subject="Pas – fornyelse")
    make_reply(subject="Storskrald")
    client = login(supervisor)

    response = client.get("/arkiv", params={"q": "fornyelse"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.text and "archive-filter" not in response.text
    assert reply.reference in response.text and "Storskrald" not in response.text
    assert "1 svar fundet" in response.text
    assert "HX-Request" in response.headers["vary"]
    # A history restore after a cache miss needs the whole page.
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in client.get("/arkiv", headers=restore).text


def test_the_page_links_the_next_and_previous_pages(make_reply, supervisor, login, monkeypatch):
    monkeypatch.setattr("hotline.web.archive_views.PER_PAGE", 2)
    for day in range(1, 6):
        make_reply(created_at=datetime(2026, 11, day, 12, 0, tzinfo=UTC))
    client = login(supervisor)

    first = client.get("/arkiv", params={"q": "hl-"}).text
    middle = client.get("/arkiv", params={"q": "hl-", "page": 2}).text

    assert 'href="/arkiv?q=hl-&amp;page=2"' in first and "Forrige" not in first
    assert 'href="/arkiv?q=hl-"' in middle and 'href="/arkiv?q=hl-&amp;page=3"' in middle
    assert "Side 2 af 3" in middle


def test_bad_filters_are_explained_in_danish(supervisor, login):
    client = login(supervisor)

    page = client.get("/arkiv", params={"from": "2026-13-01"})
    fragment = client.get("/arkiv", params={"from": "i går"}, headers={"HX-Request": "true"})
    reversed_period = client.get("/arkiv", params={"from": "2026-11-24", "to": "2026-11-23"})

    assert page.status_code == 422 and "Ugyldig dato" in page.text
    assert fragment.status_code == 422 and "Ugyldig dato" in fragment.text
    assert "<html" not in fragment.text  # htmx swaps the results only
    assert "Fra-datoen ligger efter til-datoen." in reversed_period.text


def test_only_archive_roles_get_the_nav_link(make_user, login, client):
    login(make_user(Role.AGENT))
    assert 'href="/arkiv"' not in client.get("/console").text
    login(make_user(Role.SUPERVISOR))
    assert 'href="/arkiv"' in client.get("/supervisor").text
