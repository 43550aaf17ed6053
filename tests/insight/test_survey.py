"""The satisfaction survey: invites and codes, the public page, one answer per call, the e-mail."""

import email
import email.policy
import itertools
import mailbox
import re
import threading
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState
from hotline.db import make_sessionmaker, utcnow
from hotline.insight import survey
from hotline.insight.models import SurveyInvite
from hotline.letters.models import Channel
from hotline.letters.outbox import deliver_due_replies
from hotline.letters.service import ReplyIn, create_reply

PUBLIC_URL = "https://borger.hotline.example"
CODE = re.compile(r"^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$")
_references = itertools.count(1)


@pytest.fixture
def settings(settings):
    """The test settings with a public URL, so e-mails carry the survey link."""
    return settings.model_copy(update={"public_url": PUBLIC_URL})


@pytest.fixture
def agent(make_user):
    return make_user(Role.AGENT, username="karen", full_name="Karen Ærbødig")


@pytest.fixture
def make_call(session):
    """An open call of the agent, billed to Aarhus unless told."""

    def factory(agent, code: str | None = "0751", state=CallState.ACTIVE) -> Call:
        call = Call(
            reference=f"HL-2026-{next(_references):06d}",
            municipality_code=code,
            agent_id=agent.id,
            state=state,
            answered_at=utcnow(),
        )
        session.add(call)
        session.commit()
        return call

    return factory


@pytest.fixture
def call(make_call, agent) -> Call:
    return make_call(agent)


@pytest.fixture
def invite(session, call, settings) -> SurveyInvite:
    made = survey.ensure_invite(session=session, call_id=call.id, settings=settings)
    session.commit()
    return made


def _reload(session, invite: SurveyInvite) -> SurveyInvite:
    session.expire_all()
    return session.get(SurveyInvite, invite.id)


def _answer(client, code: str, settings, **fields):
    data = {"token": survey.answer_token(code, settings.secret_key), "score": "4", **fields}
    return client.post(f"/t/{code}", data=data)


# --- invites and codes ---


def test_an_invite_has_an_unambiguous_code_and_expires_after_the_configured_days(
    session, call, settings
):
    before = utcnow()
    invite = survey.ensure_invite(session=session, call_id=call.id, settings=settings)
    session.commit()

    assert CODE.match(invite.code)
    assert not set(invite.code) & set("01OIL")
    assert invite.expires_at - invite.created_at == timedelta(days=14)
    assert before <= invite.created_at <= utcnow()
    assert survey.grouped(invite.code) == f"{invite.code[:4]} {invite.code[4:]}"


def test_the_expiry_follows_hotline_survey_days(session, call, settings):
    short = settings.model_copy(update={"survey_days": 3})
    invite = survey.ensure_invite(session=session, call_id=call.id, settings=short)
    assert invite.expires_at - invite.created_at == timedelta(days=3)


def test_a_call_has_one_invite_made_when_first_needed(session, call, settings):
    first = survey.ensure_invite(session=session, call_id=call.id, settings=settings)
    session.commit()
    again = survey.ensure_invite(session=session, call_id=call.id, settings=settings)

    assert again.id == first.id and again.code == first.code
    assert session.scalar(select(func.count(SurveyInvite.id))) == 1


def test_codes_are_random_and_a_taken_code_is_drawn_again(
    session, make_call, agent, settings, monkeypatch
):
    done = make_call(agent, state=CallState.DONE)
    taken = survey.ensure_invite(session=session, call_id=done.id, settings=settings)
    session.commit()
    draws = iter([taken.code, "ABCD2345"])
    monkeypatch.setattr(survey, "new_code", lambda: next(draws))

    other = survey.ensure_invite(session=session, call_id=make_call(agent).id, settings=settings)
    session.commit()

    assert other.code == "ABCD2345"


def test_new_codes_do_not_repeat():
    codes = {survey.new_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(CODE.match(code) for code in codes)


def test_a_code_is_read_as_typed_in_any_case_with_spaces_or_a_dash():
    assert survey.normalize_code("k7m2 qx8p") == "K7M2QX8P"
    assert survey.normalize_code("K7M2-QX8P") == "K7M2QX8P"
    assert survey.normalize_code("K7M2QX8O") is None  # O is not in the alphabet
    assert survey.normalize_code("K7M2QX8") is None
    assert survey.normalize_code("../../etc") is None


# --- the public page ---


class _Resources(HTMLParser):
    """Every URL the page loads or links to, and whether it has a script."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        self.scripts += tag == "script"
        self.urls += [value for name, value in attrs if name in ("src", "href", "action") and value]


def test_the_page_asks_one_accessible_question_without_cookies_or_other_hosts(client, invite):
    response = client.get(f"/t/{invite.code}")

    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert not client.cookies
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    html = response.text
    assert '<html lang="da">' in html
    assert "<fieldset" in html and "<legend" in html
    labels = ("1 – Meget utilfreds", "3 – Hverken tilfreds eller utilfreds", "5 – Meget tilfreds")
    for label in labels:
        assert label in html
    assert len(re.findall(r'type="radio"[^>]*name="score"', html)) == 5
    assert re.search(r'<textarea[^>]*maxlength="1000"', html)
    parser = _Resources()
    parser.feed(html)
    assert parser.scripts == 0
    local = [u for u in parser.urls if not u.startswith("#")]
    assert local and all(u.startswith("/") and not u.startswith("//") for u in local)
    # The stylesheets it loads load nothing from other hosts either (fonts, images).
    for url in (u for u in local if u.endswith(".css")):
        css = client.get(url).text
        assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import", css), url


def test_an_answer_is_stored_with_cpr_numbers_masked_and_a_suggested_class(
    client, session, invite, settings
):
    comment = "Tak, meget hjælpsom. Mit CPR er 010190-1234, men det tog lang tid."
    response = _answer(client, invite.code, settings, score="4", comment=comment)

    assert response.status_code == 200
    assert "Tak for dit svar" in response.text
    assert "set-cookie" not in response.headers
    stored = _reload(session, invite)
    assert stored.score == 4 and stored.answered_at is not None
    assert "010190-1234" not in stored.comment and "XXXXXX-XXXX" in stored.comment
    assert stored.suggested_class == "sceptical"  # tak, hjælpsom; men, lang tid
    assert stored.confirmed_class is None


def test_a_long_comment_is_cut_not_refused(client, session, invite, settings):
    response = _answer(client, invite.code, settings, comment="Tak. " * 400)

    assert response.status_code == 200
    assert len(_reload(session, invite).comment) == survey.MAX_COMMENT_LENGTH


def test_a_second_answer_gets_a_friendly_409_and_the_first_stays(client, session, invite, settings):
    assert _answer(client, invite.code, settings, score="5", comment="Super").status_code == 200

    again = _answer(client, invite.code, settings, score="1", comment="Elendigt")
    page = client.get(f"/t/{invite.code}")

    assert again.status_code == 409
    assert "Tak – vi har allerede fået dit svar" in again.text
    assert page.status_code == 200 and "vi har allerede fået dit svar" in page.text
    stored = _reload(session, invite)
    assert (stored.score, stored.comment) == (5, "Super")


def test_two_answers_at_once_store_exactly_one(engine, invite):
    """Each answer reads the invite as unanswered, then both write: the guarded UPDATE wins once."""
    make_session = make_sessionmaker(engine)
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def answer(score: int) -> None:
        with make_session() as session:
            seen = survey.open_invite(session=session, code=invite.code)
            assert seen is not None and seen.answered_at is None
            barrier.wait()
            results.append(
                survey.answer_survey(
                    session=session, invite_id=seen.id, score=score, comment=f"Svar {score}"
                )
            )
            session.commit()

    threads = [threading.Thread(target=answer, args=(score,)) for score in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results) == [False, True]
    with make_session() as session:
        stored = session.get(SurveyInvite, invite.id)
        assert stored.comment == f"Svar {stored.score}"


def test_an_answer_read_before_another_was_committed_is_refused(engine, invite):
    make_session = make_sessionmaker(engine)
    with make_session() as late, make_session() as first:
        stale = survey.open_invite(session=late, code=invite.code)
        assert stale.answered_at is None
        late.rollback()
        assert survey.answer_survey(session=first, invite_id=invite.id, score=4, comment="")
        first.commit()

        assert not survey.answer_survey(session=late, invite_id=stale.id, score=1, comment="x")


def test_an_answer_without_a_score_is_refused_with_the_error_announced(
    client, session, invite, settings
):
    data = {"token": survey.answer_token(invite.code, settings.secret_key), "comment": "Tak"}
    response = client.post(f"/t/{invite.code}", data=data)

    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert "Vælg, hvor tilfreds du er" in response.text
    assert 'aria-describedby="score-error"' in response.text
    assert ">Tak</textarea>" in response.text  # the comment is kept
    assert response.text.count("<title>Fejl") == 1
    assert _reload(session, invite).answered_at is None


@pytest.mark.parametrize("token", ["", "forged", "other-code"])
def test_a_post_without_our_signed_field_for_the_code_is_refused(
    client, session, invite, settings, token
):
    if token == "other-code":
        token = survey.answer_token("ABCD2345", settings.secret_key)
    response = client.post(f"/t/{invite.code}", data={"token": token, "score": "1"})

    assert response.status_code == 403
    assert 'role="alert"' in response.text
    assert _reload(session, invite).answered_at is None
    # The page offers a fresh form that works.
    fresh = re.search(r'name="token" value="([^"]+)"', response.text).group(1)
    assert client.post(f"/t/{invite.code}", data={"token": fresh, "score": "3"}).status_code == 200


def test_a_field_signed_with_another_secret_is_refused(client, session, invite):
    token = survey.answer_token(invite.code, "another-installation")
    response = client.post(f"/t/{invite.code}", data={"token": token, "score": "2"})
    assert response.status_code == 403
    assert _reload(session, invite).answered_at is None


def test_an_expired_and_an_unknown_code_get_the_same_friendly_404(client, session, invite):
    invite.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()

    expired = client.get(f"/t/{invite.code}")
    unknown = client.get("/t/ABCD2345")
    nonsense = client.get("/t/no%20such%20thing")
    posted = client.post(f"/t/{invite.code}", data={"score": "3"})

    for response in (expired, unknown, nonsense, posted):
        assert response.status_code == 404
        assert "Linket virker ikke" in response.text
        assert "set-cookie" not in response.headers
    assert expired.text == unknown.text == nonsense.text
    assert _reload(session, invite).answered_at is None


def test_the_code_is_read_case_insensitively(client, invite):
    typed = f"{invite.code[:4].lower()}-{invite.code[4:].lower()}"
    assert client.get(f"/t/{typed}").status_code == 200


# --- the e-mail reply and the console ---


def _email_reply(session, call, agent, settings):
    form = ReplyIn(
        channel=Channel.EMAIL,
        recipient_name="Søren Østergård",
        recipient_email="soren@borger.example",
        subject="Svar på din henvendelse",
        body_md="Kære Søren\n\nHer er svaret.",
    )
    reply = create_reply(session=session, call=call, author=agent, form=form, settings=settings)
    session.commit()
    return reply


def _delivered(settings) -> email.message.EmailMessage:
    maildir = mailbox.Maildir(settings.data_dir / "mail", create=False)
    [key] = maildir.keys()
    return email.message_from_bytes(maildir.get_bytes(key), policy=email.policy.default)


def test_the_reply_email_links_to_the_calls_survey(session, engine, call, agent, settings):
    _email_reply(session, call, agent, settings)

    assert deliver_due_replies(make_session=make_sessionmaker(engine), settings=settings) == 1

    invite = session.scalar(select(SurveyInvite).where(SurveyInvite.call_id == call.id))
    url = f"{PUBLIC_URL}/t/{invite.code}"
    message = _delivered(settings)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"Vil du fortælle os, hvordan det gik? Svar på ét spørgsmål her:\n{url}\n" in text
    assert f'<a href="{url}">{url}</a>' in html


def test_without_a_public_url_the_email_has_no_link_and_no_invite_is_made(
    session, engine, call, agent, settings
):
    settings = settings.model_copy(update={"public_url": ""})
    _email_reply(session, call, agent, settings)

    assert deliver_due_replies(make_session=make_sessionmaker(engine), settings=settings) == 1

    text = _delivered(settings).get_body(("plain",)).get_content()
    assert "/t/" not in text and "hvordan det gik" not in text
    assert session.scalar(select(func.count(SurveyInvite.id))) == 0


def test_an_answered_survey_is_not_offered_again_in_a_later_email(
    session, engine, call, agent, settings, invite
):
    invite.answered_at, invite.score = utcnow(), 4
    session.commit()
    _email_reply(session, call, agent, settings)

    deliver_due_replies(make_session=make_sessionmaker(engine), settings=settings)

    assert "/t/" not in _delivered(settings).get_body(("plain",)).get_content()


def test_the_agent_gets_the_short_link_in_the_console(client, login, session, call, agent):
    login(agent)
    page = client.get("/console")
    assert "Vis link til tilfredshedsundersøgelse" in page.text

    response = client.post(f"/console/calls/{call.id}/survey-link", headers={"HX-Request": "true"})

    assert response.status_code == 200
    invite = session.scalar(select(SurveyInvite).where(SurveyInvite.call_id == call.id))
    assert f'value="{PUBLIC_URL}/t/{invite.code}"' in response.text
    assert survey.grouped(invite.code) in response.text
    again = client.post(f"/console/calls/{call.id}/survey-link", headers={"HX-Request": "true"})
    assert f"/t/{invite.code}" in again.text


def test_without_a_public_url_the_console_link_uses_the_address_the_agent_uses(
    app, client, login, session, call, agent
):
    app.state.settings = app.state.settings.model_copy(update={"public_url": ""})
    login(agent)
    response = client.post(f"/console/calls/{call.id}/survey-link", headers={"HX-Request": "true"})

    invite = session.scalar(select(SurveyInvite).where(SurveyInvite.call_id == call.id))
    assert f'value="http://testserver/t/{invite.code}"' in response.text


def test_only_the_agent_with_the_call_makes_its_link(client, login, session, call, make_user):
    login(make_user(Role.AGENT, username="other"))

    response = client.post(f"/console/calls/{call.id}/survey-link", headers={"HX-Request": "true"})

    assert response.status_code == 403
    assert session.scalar(select(func.count(SurveyInvite.id))) == 0
