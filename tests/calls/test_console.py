"""The agent console pages: queue, claim, municipality, wrap-up."""

from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState
from tests.conftest import ready


def test_console_shows_the_queue_and_a_calm_empty_state(login, make_user, new_call):
    new_call()
    client = login(make_user(Role.AGENT))
    page = client.get("/console")
    assert page.status_code == 200
    assert "Intet aktivt opkald" in page.text
    assert "Tag næste opkald (1)" in page.text
    queue = client.get("/console/queue")
    assert "Aarhus" in queue.text and "+4520123456" in queue.text


def test_a_hidden_number_is_shown_as_such_and_never_offered_for_a_callback(
    login, make_user, new_call, session
):
    new_call(from_number="anonymous")
    client = ready(login(make_user(Role.AGENT)))
    queue = client.get("/console/queue")
    assert "Skjult nummer" in queue.text and "anonymous" not in queue.text
    client.post("/console/calls/next")
    page = client.get("/console")
    assert "Skjult nummer" in page.text and "anonymous" not in page.text
    call_id = session.scalar(select(Call.id).where(Call.from_number == "anonymous"))
    form = client.get(f"/console/calls/{call_id}/callback", headers={"HX-Request": "true"})
    assert form.status_code == 200 and "anonymous" not in form.text


def test_claimed_call_page_has_reference_and_panel_urls(login, make_user, new_call, session):
    _, reference = new_call()
    client = ready(login(make_user(Role.AGENT)))
    claimed = client.post("/console/calls/next", follow_redirects=False)
    assert claimed.status_code == 303 and claimed.headers["location"] == "/console"
    page = client.get("/console")
    call_id = session.scalar(select(Call.id).where(Call.reference == reference))
    assert reference in page.text
    assert "Opkald via Aarhus Kommunes linje" in page.text
    assert 'hx-get="/console/rules?municipality=0751"' in page.text
    assert f'hx-get="/console/calls/{call_id}/reply"' in page.text
    assert "data-started-at=" in page.text
    assert "<script>" not in page.text and "style=" not in page.text


def test_municipality_search_and_choice_rerenders_the_panels(login, make_user, new_call, session):
    _, reference = new_call()
    client = ready(login(make_user(Role.AGENT)))
    client.post("/console/calls/next")
    call_id = session.scalar(select(Call.id).where(Call.reference == reference))
    hits = client.get("/console/municipalities", params={"q": "4100", "call_id": call_id})
    assert "Ringsted" in hits.text and f"/console/calls/{call_id}/municipality" in hits.text
    chosen = client.post(
        f"/console/calls/{call_id}/municipality",
        data={"code": "0329"},
        headers={"HX-Request": "true"},
    )
    assert chosen.status_code == 200
    assert "Ringsted Kommune" in chosen.text
    assert 'hx-get="/console/rules?municipality=0329"' in chosen.text
    assert 'id="reply-panel" hx-swap-oob="true"' in chosen.text


def test_wrap_up_without_reason_rerenders_with_error_then_succeeds(
    login, make_user, new_call, session
):
    _, reference = new_call()
    client = ready(login(make_user(Role.AGENT)))
    client.post("/console/calls/next")
    call_id = session.scalar(select(Call.id).where(Call.reference == reference))
    missing = client.post(
        f"/console/calls/{call_id}/wrap-up",
        data={"outcome": "callback", "notes": "Ring igen i morgen"},
    )
    assert missing.status_code == 422
    assert "Vælg en henvendelsesårsag" in missing.text
    assert "Ring igen i morgen" in missing.text
    fragment = client.post(
        f"/console/calls/{call_id}/wrap-up",
        data={"outcome": "callback", "notes": "Ring igen i morgen"},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 422  # the form with its error, which htmx swaps in
    assert "Vælg en henvendelsesårsag" in fragment.text and "<html" not in fragment.text
    done = client.post(
        f"/console/calls/{call_id}/wrap-up",
        data={"contact_reason_code": "flytning", "outcome": "callback"},
    )
    assert done.status_code == 200  # followed the redirect to /console
    assert f"Opkald {reference} afsluttet." in done.text
    call = session.get(Call, call_id)
    session.refresh(call)
    assert call.state == CallState.DONE and call.notes == ""


def test_notes_are_saved(login, make_user, new_call, session):
    _, reference = new_call()
    client = ready(login(make_user(Role.AGENT)))
    client.post("/console/calls/next")
    call_id = session.scalar(select(Call.id).where(Call.reference == reference))
    saved = client.post(
        f"/console/calls/{call_id}/notes",
        data={"notes": "MitID låst"},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200 and "Gemt" in saved.text
    assert session.scalar(select(Call.notes).where(Call.id == call_id)) == "MitID låst"
