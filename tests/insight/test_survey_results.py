"""Satisfaction results: the supervisors' review, the grouping, agents' own, admins' scope."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.calls.models import Call, CallState
from hotline.calls.service import seed_contact_reasons
from hotline.insight import survey
from hotline.insight.models import SurveyInvite
from hotline.insight.survey_results import survey_results

AARHUS, AALBORG = "0751", "0851"
PERIOD = {"from": "2026-10-01", "to": "2026-11-30"}
_references = itertools.count(1)


@pytest.fixture
def people(make_user):
    return {
        "karen": make_user(Role.AGENT, username="karen", full_name="Karen Ærbødig"),
        "ole": make_user(Role.AGENT, username="ole", full_name="Ole Østergaard"),
        "supervisor": make_user(Role.SUPERVISOR, username="sven"),
        "aarhus_admin": make_user(Role.MUNICIPALITY_ADMIN, AARHUS, username="aarhus-admin"),
    }


@pytest.fixture
def answers(session, people, settings):
    """Five answers: Karen's three (Aarhus), Ole's two (Aalborg, one only by its line)."""
    seed_contact_reasons(session=session)
    rows = [
        # agent, billed code, line code, reason, answered (UTC), score, comment
        ("karen", AARHUS, AARHUS, "pas", (2026, 10, 12), 5, "Tusind tak, meget hjælpsom"),
        ("karen", AARHUS, AARHUS, "pas", (2026, 11, 3), 2, "Lang ventetid og forkert svar"),
        ("karen", AARHUS, AARHUS, "mitid", (2026, 11, 20), 4, ""),
        ("ole", None, AALBORG, "mitid", (2026, 11, 5), 3, "Venlig, men jeg forstår ikke"),
        ("ole", AALBORG, AALBORG, None, (2026, 11, 30, 23, 30), 1, "Uhøflig"),  # 1 Dec in DK
    ]
    invites = []
    for agent, code, line, reason, when, score, comment in rows:
        answered_at = datetime(*(when + (12,))[:5], tzinfo=UTC)
        call = Call(
            reference=f"HL-2026-{next(_references):06d}",
            municipality_code=code,
            line_municipality_code=line,
            agent_id=people[agent].id,
            state=CallState.DONE,
            offered_at=answered_at - timedelta(days=1),
            contact_reason_code=reason,
        )
        session.add(call)
        session.flush()
        invite = survey.ensure_invite(
            session=session,
            call_id=call.id,
            settings=settings,
            now=answered_at - timedelta(hours=1),
        )
        assert survey.answer_survey(
            session=session, invite_id=invite.id, score=score, comment=comment, now=answered_at
        )
        invites.append(invite)
    session.commit()
    session.expire_all()
    return invites


def test_results_per_municipality_reason_and_month(session, answers):
    results = survey_results(
        session=session,
        start=datetime(2026, 10, 1).date(),
        end=datetime(2026, 11, 30).date(),
        municipalities=None,
    )

    assert results.total.answers == 4  # the last answer was given on 1 December, Danish time
    assert results.total.average == pytest.approx(3.5)
    by_code = {code: stats for code, _, stats in results.by_municipality}
    assert set(by_code) == {AARHUS, AALBORG}
    assert by_code[AARHUS].answers == 3 and str(by_code[AARHUS].average) == "3.67"
    assert by_code[AARHUS].distribution == [0, 1, 0, 1, 1]
    # Ole's call had no chosen municipality: it counts for the line's, Aalborg.
    assert by_code[AALBORG].answers == 1 and by_code[AALBORG].classes["sceptical"] == 1
    names = {code: name for code, name, _ in results.by_municipality}
    assert "Aarhus" in names[AARHUS] and "Aalborg" in names[AALBORG]
    by_reason = {code: stats for code, _, stats in results.by_reason}
    assert (by_reason["pas"].answers, by_reason["mitid"].answers) == (2, 2)
    by_month = {key: (label, stats) for key, label, stats in results.by_month}
    assert set(by_month) == {"2026-10", "2026-11"}
    assert by_month["2026-10"][0] == "oktober 2026"
    assert by_month["2026-11"][1].answers == 3
    # Three comments with a class: one of each; the answer without a comment has none.
    assert results.total.classified == 3
    shares = [str(results.total.class_share(name)) for name in ("positive", "sceptical")]
    assert shares == ["33.3", "33.3"]


def test_a_supervisor_confirms_or_changes_and_the_page_says_how_often_it_was_right(
    client, login, session, answers, people
):
    login(people["supervisor"])
    page = client.get("/supervisor/survey", params=PERIOD)
    assert page.status_code == 200
    assert "Kommentarer til gennemsyn (4)" in page.text
    assert "Fundet: ventetid, forkert." in page.text
    assert "hjælpsom*" in page.text  # the word list itself is shown

    praise, complaint, _, doubt, _ = answers
    for invite, chosen in ((praise, "positive"), (complaint, "negative"), (doubt, "negative")):
        response = client.post(
            f"/supervisor/survey/{invite.id}/class",
            data={"comment_class": chosen},
            follow_redirects=False,
        )
        assert response.status_code == 303

    session.expire_all()
    stored = session.get(SurveyInvite, doubt.id)
    assert (stored.suggested_class, stored.confirmed_class) == ("sceptical", "negative")
    assert stored.confirmed_by_id == people["supervisor"].id and stored.confirmed_at
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "survey.classify")).all()
    assert len(audit) == 3
    assert audit[-1].after == {"suggested_class": "sceptical", "confirmed_class": "negative"}
    assert audit[-1].municipality_code == AALBORG
    page = client.get("/supervisor/survey", params=PERIOD)
    assert "Forslaget til klasse var rigtigt i 2 af 3 bekræftede kommentarer." in page.text
    assert "Kommentarer til gennemsyn (1)" in page.text


def test_a_class_outside_the_three_is_refused(client, login, session, answers, people):
    login(people["supervisor"])
    response = client.post(
        f"/supervisor/survey/{answers[0].id}/class", data={"comment_class": "neutral"}
    )

    assert response.status_code == 422
    session.expire_all()
    assert session.get(SurveyInvite, answers[0].id).confirmed_class is None


def test_an_agent_sees_only_the_answers_to_their_own_calls(client, login, answers, people):
    login(people["karen"])
    page = client.get("/console/survey")

    assert page.status_code == 200
    assert "3 svar, gennemsnit 3,67 af 5." in page.text
    assert "Tusind tak, meget hjælpsom" in page.text
    assert "Venlig, men jeg forstår ikke" not in page.text and "Uhøflig" not in page.text


def test_a_municipality_admin_sees_only_their_municipalities(
    client, login, api_client, answers, people
):
    admin = people["aarhus_admin"]
    api = api_client(admin)

    own = api.get("/api/survey/results", params=PERIOD)
    other = api.get("/api/survey/results", params={**PERIOD, "municipality": AALBORG})

    assert own.status_code == 200
    body = own.json()
    assert [group["key"] for group in body["by_municipality"]] == [AARHUS]
    assert body["total"]["answers"] == 3 and body["total"]["average"] == "3.67"
    assert body["total"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert other.status_code == 403
    login(admin)
    page = client.get("/admin/survey", params=PERIOD)
    assert page.status_code == 200
    assert "Aalborg" not in page.text
    # Aggregates only: a municipality admin reads no citizen's comment.
    assert "Tusind tak" not in page.text


def test_supervisors_see_every_municipality_and_can_filter(api_client, answers, people):
    api = api_client(people["supervisor"])

    everything = api.get("/api/survey/results", params=PERIOD).json()
    aalborg = api.get("/api/survey/results", params={**PERIOD, "municipality": AALBORG}).json()

    assert {g["key"] for g in everything["by_municipality"]} == {AARHUS, AALBORG}
    assert [g["key"] for g in aalborg["by_municipality"]] == [AALBORG]
    assert aalborg["total"]["answers"] == 1


def test_an_agent_gets_no_results_api(api_client, answers, people):
    response = api_client(people["karen"]).get("/api/survey/results", params=PERIOD)
    assert response.status_code == 403
