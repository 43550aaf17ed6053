"""The monthly insight's figures: calls, reasons, avoidable pages, satisfaction, rules, trend."""

import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from hotline.auth.models import Role, User
from hotline.calls.models import Call, CallState, Outcome
from hotline.calls.reasons import seed_contact_reasons
from hotline.insight.api import chosen_month
from hotline.insight.consultations import record_consultation
from hotline.insight.models import RuleConsultation, SurveyInvite
from hotline.insight.month_counts import mask_comment, page_of
from hotline.insight.monthly import insight_month
from hotline.insight.report import change_lines
from hotline.kit.errors import InvalidInput
from hotline.municipalities.models import Municipality
from hotline.rules.models import FlagKind, Rule, RuleFlag, RuleMode, RuleVersion

AARHUS, AALBORG = "0751", "0851"
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
CALLER = "+4520123456"
NOTE = "Borgeren oplyste CPR 010203-1234 og tlf. 20 12 34 56"
AGENT_NAME = "Karen Ærbødig"
FLAG_COMMENT = "Agentens kommentar: borgeren 010203-1234 fik forkert besked"
# What must never reach an insight: caller numbers, CPR numbers, notes, names, e-mail addresses.
PERSONAL = (
    CALLER,
    "20123456",
    "20 12 34 56",
    "010203-1234",
    "0102031234",
    "Borgeren oplyste",
    AGENT_NAME,
    "karen@example.dk",
    "Agentens kommentar",
    "98765432",
)
_numbers = iter(range(1, 1_000_000))


def at(month: date, day: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(month.replace(day=day), datetime.min.time(), UTC) + timedelta(
        minutes=minute
    )


def add_call(
    session, month, *, code=AARHUS, reason="pas", url=None, line=False, agent=None, answered=True
) -> Call:
    n = next(_numbers)
    offered = at(month, minute=n)
    call = Call(
        reference=f"DH-I{n:05d}",
        municipality_code=None if line else code,
        line_municipality_code=code,
        from_number=CALLER,
        to_number=CALLER,
        state=CallState.DONE if answered else CallState.ABANDONED,
        offered_at=offered,
        answered_at=offered + timedelta(seconds=20) if answered else None,
        ended_at=offered + timedelta(seconds=200),
        wrapped_up_at=offered + timedelta(seconds=260) if answered else None,
        outcome=Outcome.ANSWERED if answered else None,
        contact_reason_code=reason if answered else None,
        notes=NOTE,
        avoidable=url is not None,
        avoidable_url=url,
        agent_id=agent.id if agent else None,
    )
    session.add(call)
    session.flush()
    return call


def add_answer(session, call, score, comment="", *, suggested=None, confirmed=None, when=None):
    session.add(
        SurveyInvite(
            call_id=call.id,
            code=f"S{call.id:06d}",
            expires_at=call.offered_at + timedelta(days=14),
            answered_at=when or call.offered_at + timedelta(hours=1),
            score=score,
            comment=comment,
            suggested_class=suggested,
            confirmed_class=confirmed,
        )
    )


def add_rule(session, slug, title):
    rule = Rule(topic_slug=slug, municipality_code=None, current_version=1)
    rule.versions.append(
        RuleVersion(
            version=1,
            mode=RuleMode.NATIONAL,
            title=title,
            category="Kategori",
            valid_from=date(2026, 1, 1),
            author_name="Import",
        )
    )
    session.add(rule)


def add_flag(session, slug, month, *, closed=False, code=AARHUS):
    session.add(
        RuleFlag(
            topic_slug=slug,
            municipality_code=code,
            kind=FlagKind.UNCLEAR,
            comment=FLAG_COMMENT,
            created_by_name=AGENT_NAME,
            created_at=at(month, day=12),
            closed_at=at(month, day=13) if closed else None,
            closed_by_name=AGENT_NAME if closed else None,
        )
    )


def consult(session, slug, month, call=None, code=AARHUS):
    session.add(
        RuleConsultation(
            at=at(month, day=11),
            call_id=call.id if call else None,
            municipality_code=code,
            topic_slug=slug,
        )
    )


def add_two_months(session, make_user) -> None:
    """Aarhus: October 2 calls; November 6 offered, 5 answered, 3 avoidable; Aalborg 1 apart."""
    seed_contact_reasons(session=session)
    agent = make_user(Role.AGENT, full_name=AGENT_NAME)
    add_rule(session, "pas", "Pas til voksne")
    add_rule(session, "flytning", "Flytning i kommunen")
    # October: one avoidable passport call, one driving licence call, one survey answer.
    october = add_call(session, OCTOBER, url="https://www.aarhus.dk/borger/pas", agent=agent)
    add_call(session, OCTOBER, reason="koerekort", agent=agent)
    add_answer(session, october, 3, "Det gik fint", suggested="positive")
    consult(session, "pas", OCTOBER, october)
    add_flag(session, "flytning", OCTOBER)
    # November.
    pas1 = add_call(
        session, NOVEMBER, url="https://www.aarhus.dk/borger/pas?cpr=0102031234#top", agent=agent
    )
    pas2 = add_call(session, NOVEMBER, url="aarhus.dk/borger/pas/", line=True, agent=agent)
    pas3 = add_call(session, NOVEMBER, agent=agent)
    move = add_call(
        session,
        NOVEMBER,
        reason="flytning",
        url="https://selvbetjening.aarhus.dk/flyt/sag/98765432",
        agent=agent,
    )
    add_call(session, NOVEMBER, reason="flytning", agent=agent)
    add_call(session, NOVEMBER, answered=False)
    add_call(session, NOVEMBER, code=AALBORG, url="https://aalborg.dk/pas", agent=agent)
    add_answer(
        session, pas1, 5, "Super hjælp, ring gerne på 20 12 34 56 igen", confirmed="positive"
    )
    add_answer(
        session,
        pas2,
        2,
        "Mit CPR 010203-1234 virkede ikke, skriv til karen@example.dk",
        suggested="negative",
        confirmed="sceptical",
    )
    add_answer(session, pas3, 4)
    add_answer(session, move, 5, "Tak!  ", suggested="positive", when=at(date(2026, 12, 1), 2))
    for call in (pas1, pas2, pas3):
        consult(session, "pas", NOVEMBER, call)
    consult(session, "flytning", NOVEMBER, move)
    consult(session, "pas", NOVEMBER, code=AALBORG)
    add_flag(session, "pas", NOVEMBER)
    add_flag(session, "pas", NOVEMBER, closed=True)
    add_flag(session, "flytning", NOVEMBER, code=AALBORG)
    session.commit()


@pytest.fixture
def two_months(session, make_user):
    add_two_months(session, make_user)
    return insight_month(session, session.get(Municipality, AARHUS), NOVEMBER)


def test_calls_reasons_and_their_change(two_months):
    insight = two_months
    figures = insight.figures
    assert (figures.offered, figures.answered, figures.avoidable) == (6, 5, 3)
    assert figures.avoidable_pct == Decimal("60.0")
    assert (insight.previous.offered, insight.previous.answered) == (2, 2)
    assert insight.previous.avoidable_pct == Decimal("50.0")
    assert [(r.label, r.count, r.previous, r.change) for r in insight.reasons] == [
        ("Pas", 3, 1, 2),
        ("Flytning", 2, 0, 2),
    ]


def test_avoidable_pages_by_host_and_path_with_their_trend(two_months):
    pages = [(p.label, p.count, p.previous) for p in two_months.pages]
    assert pages == [
        ("aarhus.dk/borger/pas", 2, 1),
        ("selvbetjening.aarhus.dk/flyt/sag/[fjernet]", 1, 0),
    ]
    assert [(e.reason, e.page) for e in two_months.examples] == [
        ("Pas", "aarhus.dk/borger/pas"),
        ("Flytning", "selvbetjening.aarhus.dk/flyt/sag/[fjernet]"),
    ]


def test_satisfaction_with_comments_by_class_masked(two_months):
    figures = two_months.figures
    # The answer given on 1 December belongs to December, not November.
    assert (figures.answers, figures.average_score) == (3, Decimal("3.7"))
    assert two_months.scores == (0, 1, 0, 1, 1)
    assert two_months.previous.average_score == Decimal("3.0")
    assert two_months.comments == {
        "positive": ["Super hjælp, ring gerne på [fjernet] igen"],
        # The supervisor's class wins over the suggested one.
        "sceptical": ["Mit CPR XXXXXX-XXXX virkede ikke, skriv til [fjernet]"],
    }


def test_rules_consulted_and_flagged(two_months):
    consulted = [(x.label, x.count, x.previous) for x in two_months.consulted]
    assert consulted == [("Pas til voksne", 3, 1), ("Flytning i kommunen", 1, 0)]
    flagged = [(x.label, x.open, x.closed) for x in two_months.flagged]
    assert flagged == [("Pas til voksne", 1, 1)]
    assert (two_months.figures.consultations, two_months.previous.consultations) == (4, 1)
    assert (two_months.figures.flags, two_months.previous.flags) == (2, 1)


def test_what_changed_since_last_month(two_months):
    changes = {
        line.label: (line.now, line.before, line.change) for line in change_lines(two_months)
    }
    assert changes["Indgående opkald i alt"] == ("6", "2", "+4")
    assert changes["Andel undgåelige (af besvarede)"] == ("60,0 %", "50,0 %", "+10,0 pct.-point")
    assert changes["Gennemsnitlig tilfredshed (1–5)"] == ("3,7", "3,0", "+0,7")
    assert changes["Markeringer af regler"] == ("2", "1", "+1")


def test_a_month_without_anything_is_all_zero(session, two_months):
    empty = insight_month(session, session.get(Municipality, "0461"), NOVEMBER)
    assert empty.figures.offered == 0 and empty.figures.avoidable_pct is None
    assert not (empty.reasons or empty.pages or empty.examples or empty.comments)
    assert not (empty.consulted or empty.flagged)
    changes = {line.label: line.change for line in change_lines(empty)}
    assert changes["Gennemsnitlig tilfredshed (1–5)"] == "–"


def test_examples_and_comments_carry_no_personal_data(two_months):
    shown = [p.label for p in two_months.pages]
    shown += [f"{e.reason} {e.page}" for e in two_months.examples]
    shown += [c for comments in two_months.comments.values() for c in comments]
    shown += [x.label for x in two_months.consulted + two_months.flagged]
    for text in shown:
        for secret in PERSONAL:
            assert secret not in text


@pytest.mark.parametrize(
    ("url", "page"),
    [
        ("https://www.borger.dk/flytning?id=0102031234#x", "borger.dk/flytning"),
        ("borger.dk/", "borger.dk"),
        ("HTTPS://Aarhus.DK/Sag/010203-1234/", "aarhus.dk/Sag/XXXXXX-XXXX"),
        ("https://x.dk/mail/karen@example.dk", "x.dk/mail/[fjernet]"),
        ("", None),
        ("https://", None),
        ("http://[::1", None),
    ],
)
def test_a_page_is_host_and_path_without_ids(url, page):
    assert page_of(url) == page


def test_comments_lose_cpr_phone_numbers_and_addresses():
    assert mask_comment("Ring +45 20 12 34 56 eller 2012-3456") == "Ring [fjernet] eller [fjernet]"
    assert mask_comment("cpr 0102031234, mail a.b@c.dk") == "cpr XXXXXX-XXXX, mail [fjernet]"
    assert mask_comment("Åbent til kl. 16, 3 dage") == "Åbent til kl. 16, 3 dage"
    assert len(mask_comment("ord " * 200)) == 300


def test_the_month_parameter():
    december = datetime(2026, 12, 15, 12, tzinfo=UTC)
    assert chosen_month(None, now=december) == NOVEMBER
    assert chosen_month("2026-12", now=december) == date(2026, 12, 1)
    assert chosen_month(None, now=datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)
    for bad in ("2026-13", "november", "2026-1", "26-11", "2026-11-01"):
        with pytest.raises(InvalidInput) as error:
            chosen_month(bad, now=december)
        assert error.value.key == "insight.bad_month"
    with pytest.raises(InvalidInput) as error:
        chosen_month("2027-01", now=december)
    assert error.value.key == "insight.future_month"


# --- consultations recorded from the console ---


@pytest.fixture
def rules(session):
    add_rule(session, "pas", "Pas til voksne")
    add_rule(session, "flytning", "Flytning i kommunen")
    municipality = session.get(Municipality, AARHUS)
    municipality.participating = True
    session.commit()


def consultations(session):
    session.expire_all()
    rows = session.scalars(select(RuleConsultation).order_by(RuleConsultation.id)).all()
    return [(r.call_id, r.agent_id, r.municipality_code, r.topic_slug) for r in rows]


def test_consultations_are_recorded_once_per_call_and_topic(session, login, make_user, rules):
    agent = make_user(Role.AGENT)
    client = login(agent)
    now = datetime.now(UTC)
    call = Call(
        reference="DH-C00001",
        state=CallState.ACTIVE,
        agent_id=agent.id,
        offered_at=now,
        answered_at=now,
        line_municipality_code=AARHUS,
        from_number=CALLER,
    )
    session.add(call)
    session.commit()
    for slug in ("pas", "pas", "flytning", "pas"):
        response = client.get(f"/console/rules/{slug}", params={"municipality": AARHUS})
        assert response.status_code == 200
    assert client.get("/console/rules/ukendt", params={"municipality": AARHUS}).status_code == 404
    assert consultations(session) == [
        (call.id, agent.id, AARHUS, "pas"),
        (call.id, agent.id, AARHUS, "flytning"),
    ]
    # Without a call: once per agent, municipality and topic within a quarter of an hour.
    call.state = CallState.DONE
    session.commit()
    client.get("/console/rules/pas", params={"municipality": AARHUS})
    client.get("/console/rules/pas", params={"municipality": AARHUS})
    client.get("/console/rules/pas", params={"municipality": "0851"})
    assert consultations(session)[2:] == [
        (None, agent.id, AARHUS, "pas"),
        (None, agent.id, "0851", "pas"),
    ]


def test_an_admin_reading_rules_is_no_consultation(session, login, make_user, rules):
    client = login(make_user(Role.SYSTEM_ADMIN))
    assert client.get("/console/rules/pas", params={"municipality": AARHUS}).status_code == 200
    assert consultations(session) == []


def test_two_clicks_at_once_record_one_consultation(engine, make_session, make_user, rules):
    """The second click waits for the first to commit, then finds its row."""
    agent = make_user(Role.AGENT)
    started = threading.Event()
    results: dict[str, bool] = {}

    def click(name: str, hold: bool) -> None:
        with make_session() as session:
            user = session.get(User, agent.id)
            results[name] = record_consultation(
                session=session, user=user, municipality_code=AARHUS, topic_slug="pas"
            )
            if hold:
                started.set()
                time.sleep(0.5)  # the other click starts while this one is uncommitted
            session.commit()

    first = threading.Thread(target=click, args=("first", True))
    first.start()
    assert started.wait(timeout=30)
    second = threading.Thread(target=click, args=("second", False))
    second.start()
    first.join(timeout=60)
    second.join(timeout=60)

    assert results == {"first": True, "second": False}
    with make_session() as session:
        assert consultations(session) == [(None, agent.id, AARHUS, "pas")]


def test_calls_answered_elsewhere_lost_and_outgoing_are_counted_apart(session, make_user):
    add_two_months(session, make_user)
    for state in (CallState.ELSEWHERE, CallState.ELSEWHERE, CallState.LOST, CallState.OUTGOING):
        call = add_call(session, NOVEMBER, url="https://www.aarhus.dk/borger/pas")
        # As the phone system leaves them: answered by someone else (or the citizen, called).
        call.state, call.wrapped_up_at, call.contact_reason_code = state, None, None
        call.answered_at = None if state == CallState.LOST else call.answered_at
        call.direction = "out" if state == CallState.OUTGOING else "in"
    session.commit()
    insight = insight_month(session, session.get(Municipality, AARHUS), NOVEMBER)
    figures = insight.figures
    # Offered: the 6 incoming calls and the 3 answered elsewhere or lost; none of them answered.
    assert (figures.offered, figures.answered, figures.abandoned) == (9, 5, 1)
    assert (figures.elsewhere, figures.lost, figures.outgoing) == (2, 1, 1)
    assert figures.avoidable == 3 and figures.avoidable_pct == Decimal("60.0")
    # Their avoidable page was never an agent's finding: the page's count is as before.
    assert [(p.label, p.count) for p in insight.pages][0] == ("aarhus.dk/borger/pas", 2)
    changes = {line.label: (line.now, line.change) for line in change_lines(insight)}
    assert changes["Besvaret uden for Hotline"] == ("2", "+2")
    assert changes["Forbindelse tabt"] == ("1", "+1")
    assert changes["Udgående opkald (til borgere)"] == ("1", "+1")
