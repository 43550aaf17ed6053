"""The call-detail export: one row per call, the report's numbers, no personal data, streamed."""

import csv
import io
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, ContactReason, Outcome
from hotline.calls.reasons import seed_contact_reasons
from hotline.db import make_sessionmaker
from hotline.reports import call_detail
from hotline.reports.call_detail import HEADER, call_detail_csv
from hotline.reports.filters import ReportFilters
from hotline.reports.service import cost_report, ensure_default_cost_rate

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
CPR = "010190-1234"
CALLER = "+4522334455"
EVENING = datetime(2026, 11, 10, 18, 0, tzinfo=UTC)  # 19:00 in Copenhagen


def add_call(session, n, code=None, *, line=None, at=None, wait=30.0, talk=120.0, acw=45.0, **kw):
    """A finished call; seconds may be fractional, and None leaves the timestamp unset."""
    offered = at or EVENING + timedelta(minutes=n)
    answered = None if wait is None else offered + timedelta(seconds=wait)
    ended = None if talk is None or answered is None else answered + timedelta(seconds=talk)
    wrapped = None if acw is None or ended is None else ended + timedelta(seconds=acw)
    values = {
        "reference": f"DH-D{n:05d}",
        "municipality_code": code,
        "line_municipality_code": line or code,
        "state": CallState.DONE,
        "offered_at": offered,
        "answered_at": answered,
        "ended_at": ended,
        "wrapped_up_at": wrapped,
        "contact_reason_code": "pas" if answered else None,
        "outcome": Outcome.ANSWERED if answered else None,
        "from_number": CALLER,
        "to_number": "+4588000751",
        "notes": f"Borgeren ({CPR}) bad om opringning på {CALLER}.",
    }
    session.add(Call(**(values | kw)))


@pytest.fixture
def calls(session):
    """November calls of awkward lengths (half seconds, a negative talk), and some outside it."""
    ensure_default_cost_rate(session=session)
    seed_contact_reasons(session=session)
    add_call(session, 1, "0751", wait=12.5, talk=187.5, acw=61.4999)  # ties round to even
    add_call(session, 2, "0751", wait=13.5, talk=421.2, acw=0.5, avoidable=True)
    add_call(session, 3, "0851", wait=3.7, talk=-2.0, acw=7.6)  # clock skew: never negative
    add_call(session, 4, None, line="0461", wait=40.0, talk=97.0, acw=13.0)  # billed by line
    add_call(session, 5, None, line=None, wait=5.0, talk=77.0, acw=5.0)  # nobody to bill
    add_call(session, 6, "0751", wait=None, state=CallState.ABANDONED)
    # An early CTI answer on a call that was then abandoned: not answered in the report either.
    add_call(session, 7, "0851", wait=5.0, talk=600.0, acw=None, state=CallState.ABANDONED)
    add_call(session, 8, "0751", wait=20.0, talk=None, acw=None, state=CallState.ACTIVE)
    # 1 November 00:30 in Copenhagen is in; 1 December 00:30 is not.
    add_call(session, 9, "0851", at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    add_call(session, 10, "0751", at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    add_call(session, 11, "0751", at=datetime(2026, 10, 31, 22, 59, tzinfo=UTC))
    session.commit()


def export(client, **params) -> tuple[list[str], list[dict[str, str]]]:
    """GET the export (Danish Excel dialect unless asked); (header, rows by column name)."""
    response = client.get("/api/reports/calls.csv", params=NOVEMBER | params)
    assert response.status_code == 200, response.text
    text = response.content.decode("utf-8")
    rfc = params.get("dialect") == "rfc4180"
    assert text.startswith("\ufeff") != rfc
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter="," if rfc else ";")
    header, *rows = list(reader)
    return header, [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def supervisor(api_client, make_user):
    return api_client(make_user(Role.SUPERVISOR))


def test_one_row_per_call_of_the_period_in_danish_time(supervisor, calls):
    header, rows = export(supervisor)
    assert header == list(HEADER)
    assert [r["reference"] for r in rows] == [f"DH-D{n:05d}" for n in (9, 1, 2, 3, 4, 5, 6, 7, 8)]
    first = rows[1]
    assert first == {
        "reference": "DH-D00001",
        "tidspunkt": "2026-11-10T19:01:00",
        "status": "Afsluttet",
        "kommunekode": "0751",
        "kommune": "Aarhus Kommune",
        "ventetid_sek": "12",
        "samtaletid_sek": "188",
        "efterbehandling_sek": "61",
        "kontaktaarsag_kode": "pas",
        "kontaktaarsag": "Pas",
        "udfald": "Besvaret",
        "undgaaelig": "nej",
        "undgaaelig_url": "",
    }
    assert rows[0]["tidspunkt"] == "2026-11-01T00:30:00"
    by_ref = {r["reference"]: r for r in rows}
    assert by_ref["DH-D00002"]["undgaaelig"] == "ja"
    assert (by_ref["DH-D00003"]["samtaletid_sek"], by_ref["DH-D00003"]["kommune"]) == (
        "0",
        "Aalborg Kommune",
    )
    assert by_ref["DH-D00004"]["kommunekode"] == "0461"
    assert (by_ref["DH-D00005"]["kommunekode"], by_ref["DH-D00005"]["kommune"]) == (
        "",
        "Ukendt kommune",
    )
    for abandoned in ("DH-D00006", "DH-D00007"):
        row = by_ref[abandoned]
        assert row["status"] == "Opgivet"
        assert [row[c] for c in HEADER[5:8]] == ["", "", ""]
    unanswered = by_ref["DH-D00006"]
    assert unanswered["kontaktaarsag_kode"] == unanswered["kontaktaarsag"] == ""
    assert unanswered["udfald"] == ""
    active = by_ref["DH-D00008"]
    assert (active["ventetid_sek"], active["samtaletid_sek"]) == ("20", "")
    assert active["status"] == "I gang"


def test_durations_are_the_call_models_and_sum_to_the_cost_report(supervisor, session, calls):
    _, rows = export(supervisor)
    report = cost_report(session=session, start=date(2026, 11, 1), end=date(2026, 11, 30))
    totals = report.totals

    def total(column: str) -> int:
        return sum(int(r[column]) for r in rows if r[column])

    assert len(rows) == totals.offered
    assert sum(1 for r in rows if r["ventetid_sek"]) == totals.answered
    assert sum(1 for r in rows if r["status"] == "Opgivet") == totals.abandoned
    assert total("ventetid_sek") == totals.tally.wait_seconds
    assert total("samtaletid_sek") == totals.tally.talk_seconds
    assert total("efterbehandling_sek") == totals.tally.after_call_seconds
    assert sum(1 for r in rows if r["undgaaelig"] == "ja") == totals.tally.avoidable
    by_ref = {r["reference"]: r for r in rows}
    for call in session.scalars(select(Call).where(Call.state == CallState.DONE)):
        if call.reference in by_ref:
            row = by_ref[call.reference]
            assert row["ventetid_sek"] == str(call.wait_seconds)
            assert row["samtaletid_sek"] == str(call.talk_seconds)
            assert row["efterbehandling_sek"] == str(call.after_call_seconds)


def test_durations_match_the_model_to_the_microsecond(supervisor, session):
    """Random spans, exact halves among them: every database's cells are the model's numbers."""
    rng = random.Random(20261204)
    seed_contact_reasons(session=session)
    for n in range(200):
        any_span, exact_half = rng.randrange(-2_000_000, 4_000_000_000), rng.randrange(9) + 0.5
        wait, talk, acw = (rng.choice([any_span / 1e6, exact_half]) for _ in range(3))
        at = EVENING + timedelta(minutes=n, microseconds=rng.randrange(1_000_000))
        add_call(session, n, "0751", at=at, wait=wait, talk=talk, acw=acw)
    session.commit()
    _, rows = export(supervisor)
    by_ref = {r["reference"]: r for r in rows}
    calls = list(session.scalars(select(Call)))
    assert len(calls) == len(rows) == 200
    for call in calls:
        row = by_ref[call.reference]
        got = (row["ventetid_sek"], row["samtaletid_sek"], row["efterbehandling_sek"])
        assert got == tuple(
            str(s) for s in (call.wait_seconds, call.talk_seconds, call.after_call_seconds)
        )


def test_filters_by_billed_municipality_and_region(supervisor, calls):
    _, rows = export(supervisor, municipality=["0751", "0461"])
    assert {r["kommunekode"] for r in rows} == {"0751", "0461"}
    assert len(rows) == 5  # four in Aarhus, and one billed to Odense by its line
    _, rows = export(supervisor, region="1081")  # Region Nordjylland: Aalborg
    assert [r["reference"] for r in rows] == ["DH-D00009", "DH-D00003", "DH-D00007"]
    _, rows = export(supervisor, region="1081", municipality="0751")
    assert rows == []


def test_offered_time_across_daylight_saving_changes(supervisor, session):
    moments = [
        datetime(2026, 3, 29, 0, 59, 59, 900_000, tzinfo=UTC),  # 01:59:59 CET
        datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),  # 03:00:00 CEST
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 CET, an hour later
        datetime(2026, 12, 31, 23, 0, 1, tzinfo=UTC),  # New Year, 00:00:01
    ]
    seed_contact_reasons(session=session)
    for n, moment in enumerate(moments):
        add_call(session, n, "0751", at=moment)
    session.commit()
    _, rows = export(supervisor, **{"from": "2026-03-01", "to": "2027-01-01"})
    assert [r["tidspunkt"] for r in rows] == [
        "2026-03-29T01:59:59",
        "2026-03-29T03:00:00",
        "2026-10-25T02:30:00",
        "2026-10-25T02:30:00",
        "2027-01-01T00:00:01",
    ]


def test_no_caller_numbers_notes_or_agents(supervisor, session, calls, make_user):
    agent = make_user(Role.AGENT, full_name="Agnete Agentsen")
    call = session.scalar(select(Call).where(Call.reference == "DH-D00008"))
    call.agent_id = agent.id
    session.commit()
    for dialect in ("excel-da", "rfc4180"):
        response = supervisor.get("/api/reports/calls.csv", params=NOVEMBER | {"dialect": dialect})
        body = response.content.decode("utf-8")
        assert "DH-D00008" in body
        for secret in (CPR, CALLER, "22334455", "+4588000751", "Borgeren", "Agnete", "notes"):
            assert secret not in body


def test_rfc4180_quotes_and_defuses_free_text(supervisor, session, calls):
    add_call(session, 20, "0751", avoidable=True, avoidable_url='https://x.dk/a,b;"c"')
    add_call(session, 21, "0751", avoidable=True, avoidable_url="=HYPERLINK(1)")
    session.commit()
    for dialect in ("excel-da", "rfc4180"):
        _, rows = export(supervisor, dialect=dialect)
        urls = {r["reference"]: r["undgaaelig_url"] for r in rows}
        assert urls["DH-D00020"] == 'https://x.dk/a,b;"c"'
        assert urls["DH-D00021"] == "'=HYPERLINK(1)"


def test_bad_dialect_and_period_are_refused_before_streaming(supervisor, client):
    response = supervisor.get("/api/reports/calls.csv", params=NOVEMBER | {"dialect": "tsv"})
    assert response.status_code == 422
    assert response.json()["error"] == "exports.bad_dialect"
    reversed_period = {"from": "2026-11-30", "to": "2026-11-01"}
    assert supervisor.get("/api/reports/calls.csv", params=reversed_period).status_code == 422
    assert client.get("/api/reports/calls.csv", params=NOVEMBER).status_code == 401


def test_streams_in_batches_and_lets_go_of_the_connection(
    supervisor, session, engine, calls, monkeypatch
):
    monkeypatch.setattr(call_detail, "BATCH_ROWS", 2)
    period = ReportFilters(date(2026, 11, 1), date(2026, 11, 30))
    chunks = list(call_detail_csv(make_sessionmaker(engine), period))
    assert len(chunks) == 1 + 5  # the header, then 9 calls two at a time
    assert all(chunk.count(b"\n") <= 2 for chunk in chunks)
    body = supervisor.get("/api/reports/calls.csv", params=NOVEMBER).content
    assert body == b"".join(chunks)
    checked_out = engine.pool.checkedout()
    # A download stopped after the header gives its connection back.
    stopped = call_detail_csv(make_sessionmaker(engine), period)
    next(stopped)
    next(stopped)
    assert engine.pool.checkedout() == checked_out + 1
    stopped.close()
    assert engine.pool.checkedout() == checked_out


def test_an_empty_period_is_just_the_header(supervisor, calls):
    header, rows = export(supervisor, **{"from": "2025-01-01", "to": "2025-01-31"})
    assert header == list(HEADER)
    assert rows == []


def test_both_dialects_have_danish_labels_and_their_own_file_names(supervisor, session, calls):
    """The labels are the pages'; the reason's code stays for programs that join on it."""
    call = session.scalar(select(Call).where(Call.reference == "DH-D00002"))
    call.outcome, call.contact_reason_code = Outcome.REFERRED, "flytning"
    session.add(ContactReason(code="formel", label="=Flytning; mv.", sort_order=99))
    add_call(session, 30, "0751", contact_reason_code="formel", outcome=Outcome.NOT_HELPED)
    session.commit()
    names = {}
    for dialect in ("excel-da", "rfc4180"):
        response = supervisor.get("/api/reports/calls.csv", params=NOVEMBER | {"dialect": dialect})
        names[dialect] = response.headers["content-disposition"]
        _, rows = export(supervisor, dialect=dialect)
        by_ref = {r["reference"]: r for r in rows}
        referred = by_ref["DH-D00002"]
        assert (referred["status"], referred["udfald"]) == ("Afsluttet", "Henvist til kommunen")
        assert (referred["kontaktaarsag_kode"], referred["kontaktaarsag"]) == (
            "flytning",
            "Flytning",
        )
        odd = by_ref["DH-D00030"]
        assert (odd["kontaktaarsag_kode"], odd["kontaktaarsag"]) == ("formel", "'=Flytning; mv.")
        assert odd["udfald"] == "Kunne ikke hjælpe"
        assert {r["status"] for r in rows} == {"Afsluttet", "Opgivet", "I gang"}
    assert names == {
        "excel-da": 'attachment; filename="opkald_2026-11-01_2026-11-30-excel.csv"',
        "rfc4180": 'attachment; filename="opkald_2026-11-01_2026-11-30-rfc4180.csv"',
    }


def test_calls_no_agent_answered_have_their_state_and_only_an_outgoing_talk(supervisor, session):
    seed_contact_reasons(session=session)
    ensure_default_cost_rate(session=session)
    add_call(session, 1, "0751", wait=20, talk=300, acw=None, state=CallState.ELSEWHERE)
    add_call(session, 2, "0751", wait=None, state=CallState.ELSEWHERE, end_cause="forwarded")
    add_call(session, 3, "0851", wait=None, state=CallState.LOST, end_cause="lost")
    out = {"state": CallState.OUTGOING, "direction": "out", "avoidable": True}
    add_call(session, 4, "0751", wait=12, talk=150.5, acw=None, **out)
    add_call(session, 5, "0751", wait=None, **out)  # nobody picked up
    add_call(session, 6, "0751", wait=5, talk=61, acw=30)  # an agent's call, for comparison
    session.commit()
    _, rows = export(supervisor)
    by_ref = {r["reference"]: r for r in rows}
    states = [by_ref[f"DH-D{n:05d}"]["status"] for n in range(1, 6)]
    assert states == ["Besvaret uden for Hotline"] * 2 + ["Forbindelse tabt"] + ["Udgående"] * 2
    durations = {ref: tuple(row[c] for c in HEADER[5:8]) for ref, row in by_ref.items()}
    assert durations == {
        "DH-D00001": ("", "", ""),
        "DH-D00002": ("", "", ""),
        "DH-D00003": ("", "", ""),
        "DH-D00004": ("", "150", ""),  # its own talk time: the report's outgoing minutes
        "DH-D00005": ("", "", ""),
        "DH-D00006": ("5", "61", "30"),
    }
    assert by_ref["DH-D00004"]["undgaaelig"] == "nej"
    report = cost_report(session=session, start=date(2026, 11, 1), end=date(2026, 11, 30))
    totals = report.totals
    assert len(rows) == totals.offered + totals.outgoing
    assert (totals.offered, totals.answered, totals.abandoned) == (4, 1, 0)
    assert (totals.elsewhere, totals.lost, totals.outgoing) == (2, 1, 2)
    assert (totals.tally.talk_seconds, totals.tally.outgoing_seconds) == (61, 150)
