"""CPR numbers in notes: found when date-valid, refused when saved, masked in every log record."""

import logging

import pytest
from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call
from hotline.kit.cpr import contains_cpr, cpr_year, find_cpr_numbers, mask_cpr
from hotline.kit.logging import CprMaskingFilter
from tests.conftest import ready

CPR = "010203-1234"  # 1 February 1903 (7th digit 1)


@pytest.mark.parametrize(
    "text",
    [
        "Borgerens cpr er 010203-1234, spørger om pas",
        "0102031234",
        "cpr: 311299-4321.",
        "290200-4123",  # 29 February 2000 (7th digit 4, year 00: 2000, a leap year)
        "290200-5123",  # 2000 again (7th digit 5)
        "150258-9876",  # 1958 (7th digit 9, year > 36)
        "(010203–1234)",  # an en dash, as word processors type it
    ],
)
def test_date_valid_cpr_numbers_are_found(text):
    assert contains_cpr(text)


@pytest.mark.parametrize(
    "text",
    [
        "320199-1234",  # no 32nd
        "011399-1234",  # no 13th month
        "290201-1234",  # 1901 was not a leap year
        "290200-0123",  # 1900 was not a leap year (7th digit 0)
        "290258-5123",  # 1858 was not a leap year (7th digit 5, year > 57)
        "Ring +45 12345678 eller +4501020312",
        "Reference 12345678901234567890",
        "Sag 2026-010203-1234-7",
        "kl. 10.00-15.00 den 23.11.2026",
        "",
    ],
)
def test_other_numbers_are_not_cpr_numbers(text):
    assert not contains_cpr(text)


def test_modulus_11_is_not_required():
    # 010203-1235 fails the old modulus-11 check; numbers since 2007 need not pass it.
    assert contains_cpr("010203-1235")


def test_century_table():
    assert cpr_year(3, 3) == 1903
    assert cpr_year(36, 4) == 2036 and cpr_year(37, 4) == 1937
    assert cpr_year(57, 5) == 2057 and cpr_year(58, 8) == 1858
    assert cpr_year(10, 9) == 2010 and cpr_year(80, 9) == 1980


def test_find_gives_the_spans():
    text = f"a {CPR} b 0102031234"
    assert [text[s:e] for s, e in find_cpr_numbers(text)] == [CPR, "0102031234"]


def test_mask_cpr():
    assert mask_cpr(f"note: {CPR} og 0102031234.") == "note: XXXXXX-XXXX og XXXXXX-XXXX."
    assert mask_cpr("+4512345678 990199-1234") == "+4512345678 990199-1234"


def _claimed_call(api_client, make_user, new_call):
    new_call()
    agent = make_user(Role.AGENT)
    client = api_client(agent)
    call_id = client.post("/api/calls/next").json()["id"]
    return agent, client, call_id


def _all_log_text(caplog) -> str:
    return (
        "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args}" for r in caplog.records)
        + caplog.text
    )


def test_api_refuses_notes_with_a_cpr_number_and_logs_none(
    api_client, make_user, new_call, session, caplog
):
    caplog.set_level(logging.DEBUG)
    _, client, call_id = _claimed_call(api_client, make_user, new_call)
    client.post(f"/api/calls/{call_id}/notes", json={"notes": "MitID låst"})
    response = client.post(
        f"/api/calls/{call_id}/notes", json={"notes": f"Borgerens cpr er {CPR}, MitID låst"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "cpr.in_notes"
    assert "CPR-nummer" in response.json()["detail"] and CPR not in response.text
    assert session.scalar(select(Call.notes).where(Call.id == call_id)) == "MitID låst"
    # A validation error (too long) does not echo the notes either.
    too_long = client.post(f"/api/calls/{call_id}/notes", json={"notes": CPR + "x" * 10_001})
    assert too_long.status_code == 422 and CPR not in too_long.text
    logging.getLogger("hotline.test").warning("notes were %s", f"cpr {CPR}")
    assert CPR not in _all_log_text(caplog)
    assert "XXXXXX-XXXX" in caplog.text


def test_exceptions_and_messages_are_masked_by_the_filter(client, caplog):
    # The app (started by the client fixture) installed the filter on the root's handlers.
    caplog.set_level(logging.INFO)
    log = logging.getLogger("hotline.test")
    try:
        raise ValueError(f"bad notes: {CPR}")
    except ValueError:
        log.exception("saving %s failed", "0102031234")
    log.info({"notes": CPR})
    assert CPR not in _all_log_text(caplog) and "0102031234" not in _all_log_text(caplog)
    assert "bad notes: XXXXXX-XXXX" in caplog.text


def test_the_filter_keeps_the_arguments_shape_for_uvicorns_access_log():
    from uvicorn.logging import AccessFormatter

    args = ("127.0.0.1:5000", "GET", f"/console/municipalities?q={CPR}", "1.1", 200)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )
    assert CprMaskingFilter().filter(record)
    assert isinstance(record.args, tuple) and record.args[2].endswith("q=XXXXXX-XXXX")
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(record)
    assert CPR not in line and "XXXXXX-XXXX" in line


def test_a_record_without_a_cpr_number_is_left_alone():
    args = ("Aarhus", 3)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s: %d calls", args, None)
    assert CprMaskingFilter().filter(record)
    assert record.args is args and record.msg == "%s: %d calls"


def test_the_filter_masks_args_and_stack_info():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s and %d", (CPR, 5), None)
    record.stack_info = f"stack {CPR}"
    assert CprMaskingFilter().filter(record)
    assert record.getMessage() == "XXXXXX-XXXX and 5" and record.stack_info == "stack XXXXXX-XXXX"


def test_console_refuses_notes_with_a_cpr_number_and_keeps_the_text(
    login, make_user, new_call, session
):
    _, reference = new_call()
    client = ready(login(make_user(Role.AGENT)))
    client.post("/console/calls/next")
    call_id = session.scalar(select(Call.id).where(Call.reference == reference))
    url = f"/console/calls/{call_id}/notes"
    htmx = {"HX-Request": "true"}

    refused = client.post(url, data={"notes": f"cpr {CPR}"}, headers=htmx)
    assert refused.status_code == 422
    assert "Ikke gemt (CPR-nummer)" in refused.text
    assert 'id="notes-warning" class="hl-cpr-warning" hx-swap-oob="true"' in refused.text
    assert (
        "Noterne ser ud til at indeholde et CPR-nummer" in refused.text and CPR not in refused.text
    )
    assert session.scalar(select(Call.notes).where(Call.id == call_id)) == ""

    saved = client.post(url, data={"notes": "MitID låst"}, headers=htmx)
    assert "Gemt" in saved.text and "alert" not in saved.text.split('id="notes-warning"')[1]

    page = client.post(url, data={"notes": f"cpr {CPR}"}, headers={"Accept": "text/html"})
    assert page.status_code == 422
    assert f">cpr {CPR}</textarea>" in page.text  # kept in the form for the agent to fix
    assert "Noterne ser ud til at indeholde et CPR-nummer" in page.text
    session.expire_all()
    assert session.scalar(select(Call.notes).where(Call.id == call_id)) == "MitID låst"


def test_the_console_page_loads_the_cpr_script(login, make_user, new_call):
    new_call()
    client = ready(login(make_user(Role.AGENT)))
    client.post("/console/calls/next")
    page = client.get("/console")
    assert '<script src="/static/app/callbacks.js" defer></script>' in page.text
    assert 'data-cpr-warning="notes-warning"' in page.text
    assert client.get("/static/app/callbacks.js").status_code == 200


def test_wrap_up_refuses_notes_with_a_cpr_number_and_saves_nothing(
    api_client, login, make_user, new_call, session
):
    _, client, call_id = _claimed_call(api_client, make_user, new_call)
    body = {"contact_reason_code": "pas", "outcome": "answered", "notes": f"cpr {CPR}"}
    refused = client.post(f"/api/calls/{call_id}/wrap-up", json=body)
    assert refused.status_code == 422 and refused.json()["error"] == "cpr.in_notes"
    session.expire_all()
    call = session.get(Call, call_id)
    assert call.notes == "" and call.wrapped_up_at is None

    # In the console: the form comes back with the text to fix; nothing is stored.
    _, reference = new_call()
    console = ready(login(make_user(Role.AGENT)))
    console.post("/console/calls/next")
    console_call = session.scalar(select(Call.id).where(Call.reference == reference))
    form = {"contact_reason_code": "pas", "outcome": "answered", "notes": f"cpr {CPR}"}
    page = console.post(f"/console/calls/{console_call}/wrap-up", data=form)
    assert page.status_code == 422
    assert f">cpr {CPR}</textarea>" in page.text
    assert "Noterne ser ud til at indeholde et CPR-nummer" in page.text
    session.expire_all()
    assert session.get(Call, console_call).notes == ""
    assert session.get(Call, console_call).wrapped_up_at is None
