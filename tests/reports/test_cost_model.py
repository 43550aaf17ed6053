"""The cost model's editing: effective-dated rates, locked once in force, audited; API and page."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, Outcome
from hotline.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.reports import rates
from hotline.reports.models import CostRate
from hotline.reports.schemas import CostRateIn, parse_rate
from hotline.reports.service import cost_report, ensure_default_cost_rate

DECEMBER_DAY = date(2026, 12, 10)  # 'today' in the service tests
JANUARY = date(2027, 1, 1)
FIGURES = {
    "agent_cost_per_hour": "900.00",
    "telephony_per_minute": "0.2000",
    "platform_monthly": "31000.00",
    "fixed_allocation": "equal",
    "baseline_cost_per_call": "120.00",
    "base_share_pct": "20.00",
}


def rate_in(day: date = JANUARY, **changes) -> CostRateIn:
    return CostRateIn(**{**FIGURES, "effective_from": day, **changes})


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def first_future_month() -> date:
    return next_month(rates.danish_today())


def audit_entries(session) -> list[AuditEntry]:
    session.expire_all()
    query = select(AuditEntry).where(AuditEntry.entity_type == "cost_rate")
    return list(session.scalars(query.order_by(AuditEntry.id)))


@pytest.fixture
def supervisor(session, make_user):
    ensure_default_cost_rate(session=session)
    session.commit()
    return make_user(Role.SUPERVISOR, username="sven")


# --- the schema ---


def test_amounts_are_accepted_with_a_decimal_comma_or_point():
    rate = parse_rate(
        {
            **FIGURES,
            "effective_from": "2027-01-01",
            "agent_cost_per_hour": "450,5",
            "telephony_per_minute": "0.125",
            "platform_monthly": "25.000,00",
            "baseline_cost_per_call": " 95 ",
        }
    )
    assert rate.agent_cost_per_hour == Decimal("450.50")
    assert str(rate.telephony_per_minute) == "0.1250"
    assert rate.platform_monthly == Decimal("25000.00")
    assert str(rate.baseline_cost_per_call) == "95.00"


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("effective_from", "2027-01-15", "Gældende fra: skal være den 1. i en måned"),
        ("effective_from", "", "Gældende fra: ugyldig dato"),
        ("agent_cost_per_hour", "-1", "Agent pr. time: må ikke være negativ"),
        ("agent_cost_per_hour", "10000,01", "Agent pr. time: må højst være 10000"),
        ("agent_cost_per_hour", "450,555", "Agent pr. time: højst 2 decimaler"),
        ("telephony_per_minute", "0,12345", "Telefoni pr. minut: højst 4 decimaler"),
        ("platform_monthly", "25.000", "Platform pr. måned: tvetydigt tal"),
        ("platform_monthly", "mange", "Platform pr. måned: skal være et tal"),
        ("baseline_cost_per_call", "NaN", "Egen løsning pr. opkald: skal være et tal"),
        ("fixed_allocation", "by_population", "ukendt fordelingsmetode"),
        ("base_share_pct", "100,01", "Grundandel: må højst være 100"),
    ],
)
def test_invalid_figures_are_refused_in_danish(field, value, problem):
    with pytest.raises(InvalidInput) as caught:
        parse_rate({**FIGURES, "effective_from": "2027-01-01", field: value})
    assert caught.value.key == "cost_model.invalid"
    assert problem in caught.value.params["detail"]


# --- the service ---


def test_a_new_rate_from_1_january_does_not_change_december(session, supervisor):
    def call(n: int, at: datetime) -> Call:
        # 50 minutes' talk and 10 minutes' wrap-up: one handled hour.
        answered = at + timedelta(seconds=20)
        ended = answered + timedelta(minutes=50)
        return Call(
            reference=f"DH-M{n:05d}",
            municipality_code="0751",
            state=CallState.DONE,
            offered_at=at,
            answered_at=answered,
            ended_at=ended,
            wrapped_up_at=ended + timedelta(minutes=10),
            outcome=Outcome.ANSWERED,
        )

    # The last call of December (Danish time) and the first of January.
    session.add(call(1, datetime(2026, 12, 31, 22, 0, tzinfo=UTC)))
    session.add(call(2, datetime(2026, 12, 31, 23, 30, tzinfo=UTC)))
    session.commit()
    december = (date(2026, 12, 1), date(2026, 12, 31))
    january = (JANUARY, date(2027, 1, 31))
    before = cost_report(session=session, start=december[0], end=december[1])

    rates.create_rate(session=session, user=supervisor, data=rate_in(), today=DECEMBER_DAY)
    session.commit()

    after = cost_report(session=session, start=december[0], end=december[1])
    assert after.totals.variable_cost == before.totals.variable_cost
    # The old rate: 450 kr. for the handled hour and 50 minutes at 0.10 kr.
    assert after.totals.variable_cost == Decimal("455.00")
    assert (after.fixed_cost, after.fixed_allocation) == (Decimal("25000.00"), "calls")
    new = cost_report(session=session, start=january[0], end=january[1])
    # The new rate: 900 kr. for the hour and 50 minutes at 0.20 kr.
    assert new.totals.variable_cost == Decimal("910.00")
    assert (new.fixed_cost, new.fixed_allocation) == (Decimal("31000.00"), "equal")
    assert new.totals.baseline_cost == Decimal("120.00")


def test_a_new_rate_must_start_in_a_future_month(session, supervisor):
    for day in (date(2026, 12, 1), date(2026, 11, 1)):  # this month has begun; last month is past
        with pytest.raises(InvalidInput) as caught:
            rates.create_rate(
                session=session, user=supervisor, data=rate_in(day), today=DECEMBER_DAY
            )
        assert caught.value.key == "cost_model.not_future"
    # On the last day of December, January is still in the future.
    rate = rates.create_rate(
        session=session, user=supervisor, data=rate_in(), today=date(2026, 12, 31)
    )
    assert rate.created_by_id == supervisor.id


def test_a_second_rate_for_the_same_month_is_a_conflict(session, supervisor):
    rates.create_rate(session=session, user=supervisor, data=rate_in(), today=DECEMBER_DAY)
    with pytest.raises(Conflict) as caught:
        rates.create_rate(
            session=session, user=supervisor, data=rate_in(platform_monthly="1"), today=DECEMBER_DAY
        )
    assert caught.value.key == "cost_model.date_taken"
    assert caught.value.params["day"] == "1. januar 2027"
    february = rates.create_rate(
        session=session, user=supervisor, data=rate_in(date(2027, 2, 1)), today=DECEMBER_DAY
    )
    with pytest.raises(Conflict):  # moving February onto January
        rates.update_rate(
            session=session,
            user=supervisor,
            rate_id=february.id,
            data=rate_in(),
            today=DECEMBER_DAY,
        )


def test_a_rate_in_force_or_past_is_locked(session, supervisor):
    default = ensure_default_cost_rate(session=session)
    rate = rates.create_rate(session=session, user=supervisor, data=rate_in(), today=DECEMBER_DAY)
    session.commit()
    # From 1 January the January rate is in force and the default one is past.
    for locked in (rate, default):
        with pytest.raises(Conflict) as caught:
            rates.update_rate(
                session=session,
                user=supervisor,
                rate_id=locked.id,
                data=rate_in(date(2027, 3, 1)),
                today=JANUARY,
            )
        assert caught.value.key == "cost_model.locked"
        with pytest.raises(Conflict):
            rates.delete_rate(session=session, user=supervisor, rate_id=locked.id, today=JANUARY)
    statuses = rates.rate_statuses(rates.list_rates(session=session), JANUARY)
    assert statuses == {rate.id: "in_force", default.id: "past"}
    assert rates.rate_statuses([rate, default], DECEMBER_DAY)[rate.id] == "future"


def test_a_future_rate_can_be_edited_moved_and_deleted_and_each_change_is_audited(
    session, supervisor
):
    rate = rates.create_rate(session=session, user=supervisor, data=rate_in(), today=DECEMBER_DAY)
    moved = rate_in(date(2027, 3, 1), agent_cost_per_hour="950,25", fixed_allocation="minutes")
    rates.update_rate(
        session=session, user=supervisor, rate_id=rate.id, data=moved, today=DECEMBER_DAY
    )
    # Saving the same figures again changes nothing and records nothing.
    rates.update_rate(
        session=session, user=supervisor, rate_id=rate.id, data=moved, today=DECEMBER_DAY
    )
    session.commit()
    assert [r.effective_from for r in rates.list_rates(session=session)] == [
        date(2027, 3, 1),
        date(2020, 1, 1),
    ]
    rates.delete_rate(session=session, user=supervisor, rate_id=rate.id, today=DECEMBER_DAY)
    session.commit()
    with pytest.raises(NotFound):
        rates.get_rate(session=session, rate_id=rate.id)

    created, updated, deleted = audit_entries(session)
    assert [e.action for e in (created, updated, deleted)] == [
        "cost_rate.create",
        "cost_rate.update",
        "cost_rate.delete",
    ]
    assert {e.entity_id for e in (created, updated, deleted)} == {str(rate.id)}
    assert all(e.actor_name == "sven" for e in (created, updated, deleted))
    assert created.before is None
    assert created.after == {
        "id": rate.id,
        "effective_from": "2027-01-01",
        "agent_cost_per_hour": "900.00",
        "telephony_per_minute": "0.2000",
        "platform_monthly": "31000.00",
        "fixed_allocation": "equal",
        "baseline_cost_per_call": "120.00",
        "base_share_pct": "20.00",
    }
    assert updated.before == created.after
    assert updated.after == {
        **created.after,
        "effective_from": "2027-03-01",
        "agent_cost_per_hour": "950.25",
        "fixed_allocation": "minutes",
    }
    assert (deleted.before, deleted.after) == (updated.after, None)


def test_only_supervisors_and_system_admins_edit_rates(session, make_user):
    agent = make_user(Role.AGENT)
    with pytest.raises(PermissionDenied):
        rates.create_rate(session=session, user=agent, data=rate_in(), today=DECEMBER_DAY)
    admin = make_user(Role.SYSTEM_ADMIN)
    assert rates.create_rate(session=session, user=admin, data=rate_in(), today=DECEMBER_DAY).id


def test_unknown_and_out_of_range_ids_are_not_found(session):
    for rate_id in (0, 12345, 2**40):
        with pytest.raises(NotFound):
            rates.get_rate(session=session, rate_id=rate_id)


# --- the JSON API ---


def api_body(day: date, **changes) -> dict:
    return {**FIGURES, "effective_from": day.isoformat(), **changes}


def test_the_api_lists_creates_reads_updates_and_deletes_rates(session, supervisor, api_client):
    api = api_client(supervisor)
    future = first_future_month()
    created = api.post("/api/reports/cost-rates", json=api_body(future, agent_cost_per_hour=455.5))
    assert created.status_code == 201, created.text
    rate = created.json()
    assert rate["agent_cost_per_hour"] == "455.50"
    assert (rate["status"], rate["locked"], rate["created_by_id"]) == (
        "future",
        False,
        supervisor.id,
    )

    listed = api.get("/api/reports/cost-rates").json()
    assert [(r["effective_from"], r["status"]) for r in listed] == [
        (future.isoformat(), "future"),
        ("2020-01-01", "in_force"),
    ]
    assert api.get(f"/api/reports/cost-rates/{rate['id']}").json() == rate

    later = next_month(future)
    updated = api.put(
        f"/api/reports/cost-rates/{rate['id']}", json=api_body(later, telephony_per_minute="0,15")
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["effective_from"], updated.json()["telephony_per_minute"]) == (
        later.isoformat(),
        "0.1500",
    )
    assert api.delete(f"/api/reports/cost-rates/{rate['id']}").status_code == 204
    assert api.get(f"/api/reports/cost-rates/{rate['id']}").status_code == 404
    actions = [e.action for e in audit_entries(session)]
    assert actions == ["cost_rate.create", "cost_rate.update", "cost_rate.delete"]


def test_the_api_refuses_locked_duplicate_and_invalid_rates(session, supervisor, api_client):
    api = api_client(supervisor)
    default = ensure_default_cost_rate(session=session)
    session.commit()
    future = first_future_month()

    locked = api.put(f"/api/reports/cost-rates/{default.id}", json=api_body(future))
    assert locked.status_code == 409
    assert locked.json()["error"] == "cost_model.locked"
    assert "1. januar 2020" in locked.json()["detail"]
    assert api.delete(f"/api/reports/cost-rates/{default.id}").status_code == 409

    assert api.post("/api/reports/cost-rates", json=api_body(future)).status_code == 201
    duplicate = api.post("/api/reports/cost-rates", json=api_body(future))
    assert (duplicate.status_code, duplicate.json()["error"]) == (409, "cost_model.date_taken")

    this_month = rates.danish_today().replace(day=1)
    too_early = api.post("/api/reports/cost-rates", json=api_body(this_month))
    assert (too_early.status_code, too_early.json()["error"]) == (422, "cost_model.not_future")
    for bad in (
        api_body(future.replace(day=2)),
        api_body(next_month(future), agent_cost_per_hour="-5"),
        api_body(next_month(future), fixed_allocation="by_population"),
        api_body(next_month(future), base_share_pct="101"),
        api_body(next_month(future), colour="red"),
    ):
        assert api.post("/api/reports/cost-rates", json=bad).status_code == 422, bad
    assert api.put("/api/reports/cost-rates/98765", json=api_body(future)).status_code == 404
    assert api.delete("/api/reports/cost-rates/98765").status_code == 404
    assert [e.action for e in audit_entries(session)] == ["cost_rate.create"]


def test_the_api_is_for_supervisors_and_system_admins(
    session, supervisor, client, make_user, api_client
):
    anonymous = client.get("/api/reports/cost-rates", headers={"Accept": "application/json"})
    assert anonymous.status_code == 401
    body = api_body(first_future_month())
    for role, codes in ((Role.AGENT, ()), (Role.MUNICIPALITY_ADMIN, ("0751",))):
        api = api_client(make_user(role, *codes))
        assert api.get("/api/reports/cost-rates").status_code == 403
        assert api.post("/api/reports/cost-rates", json=body).status_code == 403
    admin = make_user(Role.SYSTEM_ADMIN, username="sys")
    assert api_client(admin).post("/api/reports/cost-rates", json=body).status_code == 201
    assert [e.actor_name for e in audit_entries(session)] == ["sys"]


# --- the page ---


def test_the_page_lists_rates_with_danish_amounts_and_their_status(
    session, supervisor, login, make_user
):
    future = first_future_month()
    rates.create_rate(
        session=session,
        user=supervisor,
        data=rate_in(future, telephony_per_minute="0.125", fixed_allocation="base_plus_usage"),
    )
    session.add(CostRate(effective_from=date(2021, 1, 1), **{**FIGURES, "platform_monthly": "1"}))
    session.commit()
    browser = login(supervisor)
    assert 'href="/supervisor/cost-model"' in browser.get("/supervisor").text

    page = browser.get("/supervisor/cost-model")
    assert page.status_code == 200
    html = page.text
    assert "Gælder nu" in html and "Tidligere" in html and "Kommende" in html
    assert "450,00" in html and "25.000,00" in html and "0,125" in html and "0,10" in html
    assert "Grundandel plus forbrug" in html
    # Only the future rate can be edited or deleted; the form is prefilled from the newest rate.
    assert html.count('action="/supervisor/cost-model/') == 1
    assert html.count("?edit=") == 1
    assert f'value="{next_month(future).isoformat()}"' in html
    assert 'value="900,00"' in html


def test_the_form_creates_a_rate_with_a_decimal_comma(session, supervisor, login):
    browser = login(supervisor)
    future = first_future_month()
    form = {**FIGURES, "effective_from": future.isoformat(), "agent_cost_per_hour": "450,50"}
    response = browser.post("/supervisor/cost-model", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/supervisor/cost-model?done=created"
    session.expire_all()
    rate = session.scalar(select(CostRate).where(CostRate.effective_from == future))
    assert rate.agent_cost_per_hour == Decimal("450.50")
    assert "Satsen er oprettet." in browser.get(response.headers["location"]).text
    assert [e.action for e in audit_entries(session)] == ["cost_rate.create"]


def test_a_refused_form_is_shown_again_with_the_input_and_the_reason(session, supervisor, login):
    browser = login(supervisor)
    future = first_future_month()
    form = {**FIGURES, "effective_from": future.replace(day=15).isoformat()}
    form["agent_cost_per_hour"] = "4,50,0"
    response = browser.post("/supervisor/cost-model", data=form)
    assert response.status_code == 422
    assert "Satsen blev ikke gemt" in response.text
    assert "Gældende fra: skal være den 1. i en måned" in response.text
    assert 'value="4,50,0"' in response.text
    assert f'value="{future.replace(day=15).isoformat()}"' in response.text

    form = {**FIGURES, "effective_from": future.isoformat()}
    assert browser.post("/supervisor/cost-model", data=form).status_code == 200  # after redirect
    again = browser.post("/supervisor/cost-model", data={**form, "platform_monthly": "777"})
    assert again.status_code == 409
    assert "Der findes allerede en sats" in again.text and 'value="777"' in again.text
    assert [e.action for e in audit_entries(session)] == ["cost_rate.create"]


def test_the_page_edits_and_deletes_future_rates_only(session, supervisor, login):
    default = ensure_default_cost_rate(session=session)
    rate = rates.create_rate(session=session, user=supervisor, data=rate_in(first_future_month()))
    session.commit()
    rate_id, default_id = rate.id, default.id
    browser = login(supervisor)

    edit = browser.get(f"/supervisor/cost-model?edit={rate.id}")
    assert "Rediger satsen gældende fra" in edit.text and 'value="31000,00"' in edit.text
    assert "Rediger satsen" not in browser.get(f"/supervisor/cost-model?edit={default.id}").text

    form = {**FIGURES, "effective_from": rate.effective_from.isoformat(), "platform_monthly": "-1"}
    bad = browser.post(f"/supervisor/cost-model/{rate.id}", data=form)
    assert bad.status_code == 422
    assert "Platform pr. måned: må ikke være negativ" in bad.text
    assert "Rediger satsen gældende fra" in bad.text and 'value="-1"' in bad.text

    form["platform_monthly"] = "32.000,50"
    saved = browser.post(f"/supervisor/cost-model/{rate.id}", data=form, follow_redirects=False)
    assert saved.headers["location"] == "/supervisor/cost-model?done=updated"
    session.expire_all()
    assert session.get(CostRate, rate.id).platform_monthly == Decimal("32000.50")

    locked = browser.post(f"/supervisor/cost-model/{default.id}", data=form)
    assert locked.status_code == 409 and "er trådt i kraft" in locked.text
    assert browser.post(f"/supervisor/cost-model/{default.id}/delete").status_code == 409
    assert browser.post("/supervisor/cost-model/98765", data=form).status_code == 404

    deleted = browser.post(f"/supervisor/cost-model/{rate_id}/delete", follow_redirects=False)
    assert deleted.headers["location"] == "/supervisor/cost-model?done=deleted"
    session.expire_all()
    assert session.get(CostRate, rate_id) is None
    assert session.get(CostRate, default_id) is not None
    actions = [e.action for e in audit_entries(session)]
    assert actions == ["cost_rate.create", "cost_rate.update", "cost_rate.delete"]


def test_the_page_is_for_supervisors_and_system_admins(session, supervisor, make_user, login):
    browser = login(make_user(Role.AGENT))
    assert browser.get("/supervisor/cost-model").status_code == 403
    form = {**FIGURES, "effective_from": first_future_month().isoformat()}
    assert browser.post("/supervisor/cost-model", data=form).status_code == 403
    assert rates.list_rates(session=session)[0].effective_from == date(2020, 1, 1)
