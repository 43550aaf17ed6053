"""Wrap-up: the avoidable-contact flag and its URL, the durations, and no close without a reason."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState
from hotline.calls.queue import claim_call
from hotline.calls.service import checked_avoidable_url, wrap_up_call
from hotline.db import utcnow
from hotline.kit.errors import InvalidInput

CONFUSING_PAGE = "https://www.borger.dk/internet-telefon-tv-og-post/Digital-Post"


@pytest.fixture
def claimed(new_call, make_user, session):
    """An agent with a claimed call: (agent, call)."""
    agent = make_user(Role.AGENT)
    _, reference = new_call()
    call_id = session.scalar(select(Call.id).where(Call.reference == reference))
    call = claim_call(session=session, call_id=call_id, agent=agent)
    session.commit()
    return agent, call


@pytest.mark.parametrize(
    ("url", "key"),
    [
        (None, "live.avoidable_url_required"),
        ("   ", "live.avoidable_url_required"),
        ("borger.dk/mitid", "live.avoidable_url_invalid"),
        ("ftp://borger.dk/fil", "live.avoidable_url_invalid"),
        ("javascript:alert(1)", "live.avoidable_url_invalid"),
        ("https://", "live.avoidable_url_invalid"),
        ("https://www.borger.dk/a side", "live.avoidable_url_invalid"),
        ("https://[::1/", "live.avoidable_url_invalid"),
        ("https://www.borger.dk/" + "x" * 480, "live.avoidable_url_too_long"),
    ],
)
def test_an_avoidable_contact_needs_a_whole_http_url(url, key):
    with pytest.raises(InvalidInput) as refused:
        checked_avoidable_url(url)
    assert refused.value.key == key


def test_a_url_of_500_characters_is_accepted():
    url = "https://www.aarhus.dk/" + "x" * (500 - len("https://www.aarhus.dk/"))
    assert checked_avoidable_url(f"  {url} ") == url
    assert checked_avoidable_url("HTTP://kommune.dk") == "HTTP://kommune.dk"


def test_wrap_up_records_an_avoidable_contact(claimed, session):
    agent, call = claimed
    wrap_up_call(
        session=session,
        call=call,
        user=agent,
        contact_reason_code="digital-post",
        outcome="answered",
        avoidable=True,
        avoidable_url=CONFUSING_PAGE,
    )
    session.commit()
    session.expire_all()
    done = session.get(Call, call.id)
    assert done.avoidable and done.avoidable_url == CONFUSING_PAGE


def test_a_url_without_the_flag_is_not_kept(claimed, session):
    agent, call = claimed
    wrap_up_call(
        session=session,
        call=call,
        user=agent,
        contact_reason_code="pas",
        outcome="answered",
        avoidable=False,
        avoidable_url="not even a url",
    )
    assert call.avoidable is False and call.avoidable_url is None


def test_a_call_cannot_be_closed_without_a_reason(claimed, session, api_client, login):
    agent, call = claimed
    for reason in (None, "", "no-such-reason"):
        with pytest.raises(InvalidInput):
            wrap_up_call(
                session=session,
                call=call,
                user=agent,
                contact_reason_code=reason,
                outcome="answered",
            )
    session.rollback()
    api = api_client(agent)
    refused = api.post(f"/api/calls/{call.id}/wrap-up", json={"outcome": "answered"})
    assert refused.status_code == 422
    page = login(agent).post(f"/console/calls/{call.id}/wrap-up", data={"outcome": "answered"})
    assert page.status_code == 422
    session.expire_all()
    still = session.get(Call, call.id)
    assert still.state == CallState.ACTIVE and still.wrapped_up_at is None


def test_the_console_form_keeps_the_input_and_marks_the_url_field(claimed, login, session):
    agent, call = claimed
    browser = login(agent)
    form = {
        "contact_reason_code": "mitid",
        "outcome": "referred",
        "avoidable": "true",
        "avoidable_url": "borger.dk/mitid",
    }
    page = browser.post(f"/console/calls/{call.id}/wrap-up", data=form)
    assert page.status_code == 422
    assert "Adressen skal være en hel webadresse" in page.text
    assert 'id="avoidable" name="avoidable" value="true"' in page.text
    assert 'aria-controls="avoidable-url-group" checked' in page.text
    assert 'value="borger.dk/mitid"' in page.text and 'aria-invalid="true"' in page.text
    assert '<option value="mitid" selected>' in page.text
    assert 'id="outcome-referred" name="outcome" value="referred" checked' in page.text
    done = browser.post(
        f"/console/calls/{call.id}/wrap-up", data={**form, "avoidable_url": CONFUSING_PAGE}
    )
    assert done.status_code == 200 and "afsluttet" in done.text
    assert "Ventetid 0:" in done.text and "efterbehandling 0:" in done.text
    session.expire_all()
    assert session.get(Call, call.id).avoidable_url == CONFUSING_PAGE


def test_the_api_takes_the_flag_and_shows_the_durations(claimed, api_client, session):
    agent, call = claimed
    # A known timeline: 75 s in the queue, 300 s of talk, then the after-call work.
    call.answered_at = utcnow() - timedelta(seconds=400)
    call.offered_at = call.answered_at - timedelta(seconds=75)
    call.ended_at = call.answered_at + timedelta(seconds=300)
    session.commit()
    api = api_client(agent)
    bad = {"contact_reason_code": "pas", "outcome": "answered", "avoidable": True}
    refused = api.post(f"/api/calls/{call.id}/wrap-up", json=bad)
    assert refused.status_code == 422 and refused.json()["error"] == "live.avoidable_url_required"
    done = api.post(
        f"/api/calls/{call.id}/wrap-up", json={**bad, "avoidable_url": CONFUSING_PAGE}
    ).json()
    assert done["avoidable"] is True and done["avoidable_url"] == CONFUSING_PAGE
    assert done["wait_seconds"] == 75 and done["talk_seconds"] == 300
    assert 99 <= done["after_call_seconds"] <= 110
    session.expire_all()
    stored = session.get(Call, call.id)
    assert (stored.wait_seconds, stored.talk_seconds) == (75, 300)


def test_an_abandoned_call_waited_until_the_caller_hung_up(
    new_call, cti, api_client, make_user, session
):
    cti_id, reference = new_call()
    assert cti(event="hangup", callId=cti_id).status_code == 200
    call = session.scalar(select(Call).where(Call.reference == reference))
    call.offered_at = call.ended_at - timedelta(seconds=42)
    session.commit()
    detail = api_client(make_user(Role.SUPERVISOR)).get(f"/api/calls/{call.id}").json()
    assert detail["state"] == "abandoned" and detail["wait_seconds"] == 42
    assert detail["talk_seconds"] is None and detail["after_call_seconds"] is None


def test_every_wrong_wrap_up_field_is_reported_at_once_at_its_field(claimed, login, session):
    agent, call = claimed
    page = login(agent).post(
        f"/console/calls/{call.id}/wrap-up",
        data={"avoidable": "true", "avoidable_url": "borger.dk", "notes": "n" * 10_001},
    )
    assert page.status_code == 422
    html = page.text
    expected = {
        "contact-reason-error": "Vælg en henvendelsesårsag",
        "outcome-error": "Vælg et resultat",
        "avoidable-url-error": "Adressen skal være en hel webadresse",
        "call-notes-error": "Noterne må højst være 10.000 tegn.",
    }
    for error_id, text in expected.items():
        start = html.index(f'id="{error_id}"')
        assert text in html[start : start + 300], error_id
        # The field names its message and is marked invalid, for screen readers.
        assert f'aria-describedby="{error_id}"' in html or f' {error_id}"' in html, error_id
    assert html.count('aria-invalid="true"') == len(expected)
    assert "data-has-errors" in html  # the browser moves the focus to the first of them
    # The notes' tab is the one shown, since the first error is there.
    assert 'id="tab-notes" aria-controls="work-notes"\n      aria-selected="true"' in html
    session.expire_all()
    assert session.get(Call, call.id).state == CallState.ACTIVE
