"""Property tests: every split reconciles to the øre, whatever the calls and the rates."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from hotline.calls.models import Call, CallState
from hotline.reports.models import ALLOCATION_METHODS, CostRate
from hotline.reports.money import ORE, allocation_weights, split
from hotline.reports.rollup import COUNTERS
from hotline.reports.service import cost_report

amounts = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False)
counts = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=60)


@given(
    total=amounts,
    answered=counts,
    method=st.sampled_from(ALLOCATION_METHODS),
    base_share=st.decimals(min_value=0, max_value=1, places=4),
)
def test_the_fixed_cost_splits_exactly_whatever_the_weights(total, answered, method, base_share):
    handled = [n * 7 for n in answered]
    offered = [n + 1 for n in answered]
    weights = allocation_weights(
        method, answered=answered, handled_seconds=handled, offered=offered, base_share=base_share
    )
    parts = split(total, weights)
    assert sum(parts) == total
    assert all(part >= 0 and part == part.quantize(ORE) for part in parts)
    # No part is more than an øre from its exact share.
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part - total * weight / weight_sum) < ORE


calls_strategy = st.lists(
    st.tuples(
        st.sampled_from(["0751", "0851", "0461", None]),
        st.integers(min_value=0, max_value=60 * 24 * 75),  # minute of the period
        st.integers(min_value=0, max_value=1800),  # wait
        st.integers(min_value=0, max_value=3600),  # talk
        st.integers(min_value=0, max_value=900),  # after-call work
        st.booleans(),  # abandoned
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    calls=calls_strategy,
    method=st.sampled_from(ALLOCATION_METHODS),
    platform=amounts,
    agent_rate=st.decimals(min_value=0, max_value=2000, places=2),
    telephony=st.decimals(min_value=0, max_value=5, places=4),
    share=st.decimals(min_value=0, max_value=100, places=2),
    first_day=st.integers(min_value=0, max_value=40),
    days=st.integers(min_value=0, max_value=60),
)
def test_a_report_reconciles_to_the_ore(
    session, calls, method, platform, agent_rate, telephony, share, first_day, days
):
    for table in (Call.__table__, *COUNTERS, CostRate.__table__):
        session.execute(delete(table))
    session.add(
        CostRate(
            effective_from=date(2026, 1, 1),
            agent_cost_per_hour=agent_rate,
            telephony_per_minute=telephony,
            platform_monthly=platform,
            fixed_allocation=method,
            baseline_cost_per_call=Decimal("95"),
            base_share_pct=share,
        )
    )
    origin = datetime(2026, 10, 1, tzinfo=UTC)
    for n, (code, minute, wait, talk, acw, abandoned) in enumerate(calls):
        offered = origin + timedelta(minutes=minute)
        answered = None if abandoned else offered + timedelta(seconds=wait)
        ended = (answered or offered) + timedelta(seconds=talk)
        session.add(
            Call(
                reference=f"DH-P{n:04d}",
                municipality_code=code,
                state=CallState.ABANDONED if abandoned else CallState.DONE,
                offered_at=offered,
                answered_at=answered,
                ended_at=ended,
                wrapped_up_at=ended + timedelta(seconds=acw) if answered else None,
            )
        )
    session.commit()
    start = date(2026, 10, 1) + timedelta(days=first_day)
    report = cost_report(session=session, start=start, end=start + timedelta(days=days))
    rows = report.rows
    assert sum(r.fixed_cost for r in rows) == report.fixed_cost
    assert sum(r.variable_cost for r in rows) == report.variable_cost
    assert sum(r.total_cost for r in rows) == report.total_cost == report.totals.total_cost
    assert all(r.fixed_cost >= 0 and r.variable_cost >= 0 for r in rows)
    if rows:
        assert sum(r.share_pct or 0 for r in rows) <= Decimal(100) + Decimal("0.05") * len(rows)
    else:
        assert report.total_cost == 0
