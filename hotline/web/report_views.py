"""HTML views of the call-cost report: filters, table, charts, downloads and the calls behind it."""

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.kit.errors import InvalidInput
from hotline.municipalities.models import Municipality
from hotline.reports.charts import cost_bars_svg, hour_of_week_svg
from hotline.reports.drilldown import call_lines
from hotline.reports.export import RFC4180
from hotline.reports.filters import MAX_CODES, checked_filters, filtered_report
from hotline.reports.period import last_whole_month
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
report_reader = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN)


def report_context(
    session: Session,
    start: str | None,
    end: str | None,
    municipalities: list[str],
    region: str | None,
) -> tuple[dict, str | None]:
    """The report section's template values, and the error to show when the filters are bad."""
    default_start, default_end = last_whole_month()
    start, end = start or default_start.isoformat(), end or default_end.isoformat()
    report, filters, error = None, None, None
    try:
        filters = checked_filters(start, end, municipalities, region)
        report = filtered_report(session=session, filters=filters)
    except InvalidInput as exc:
        error = t(exc.key, **exc.params)
    query = urlencode(filters.params) if filters else ""
    choices = session.execute(
        select(
            Municipality.code, Municipality.name, Municipality.region_code, Municipality.region_name
        ).order_by(Municipality.name)
    ).all()
    context = {
        "report": report,
        "error": error,
        "start": start,
        "end": end,
        "chosen": set(municipalities),
        "region": region or "",
        "region_groups": _region_groups(choices),
        "regions": sorted({(code, name) for _, _, code, name in choices}),
        "filter_params": filters.params if filters else [],
        "query": query,
        "period_query": urlencode(filters.params[:2]) if filters else "",
        "downloads": _downloads(query) if report else [],
        "cost_chart": cost_bars_svg(report) if report and report.rows else None,
        "hours_chart": hour_of_week_svg(report.calls_by_hour_of_week()) if report else None,
    }
    return context, error


def _region_groups(choices) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The municipalities by region (in region code order), each region's by name."""
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for code, name, region_code, region_name in choices:
        groups.setdefault((region_code, region_name), []).append((code, name))
    return [(code, name, members) for (code, name), members in sorted(groups.items())]


def _downloads(query: str) -> list[tuple[str, str]]:
    rfc4180 = f"{query}&dialect={RFC4180}"
    return [
        (t("reports_page.csv_excel"), f"/api/reports/cost.csv?{query}"),
        (t("reports_page.csv_rfc4180"), f"/api/reports/cost.csv?{rfc4180}"),
        (t("reports_page.xlsx"), f"/api/reports/cost.xlsx?{query}"),
        (t("reports_page.pdf"), f"/api/reports/cost.pdf?{query}"),
        (t("reports_page.calls_csv"), f"/api/reports/calls.csv?{query}"),
        (t("reports_page.calls_csv_rfc4180"), f"/api/reports/calls.csv?{rfc4180}"),
    ]


@router.get("/supervisor/calls")
def report_calls(
    request: Request,
    start: str = Query(alias="from", max_length=10),
    end: str = Query(alias="to", max_length=10),
    municipality: list[str] = Query(default_factory=list, max_length=MAX_CODES),
    region: str | None = Query(None, max_length=4),
    after: str | None = Query(None, max_length=60),
    session: Session = request_session,
    user: User = Depends(report_reader),
):
    """The calls behind the report's figures, 100 at a time, without caller numbers or notes."""
    filters = checked_filters(start, end, municipality, region)
    lines, next_key = call_lines(session=session, filters=filters, after=_page_key(after))
    names = dict(session.execute(select(Municipality.code, Municipality.name)).all())
    next_url = None
    if next_key:
        key = f"{next_key[0].isoformat()}_{next_key[1]}"
        next_url = "/supervisor/calls?" + urlencode([*filters.params, ("after", key)])
    return render(
        request,
        "supervisor/report_calls.html",
        user=user,
        nav="reports",
        filters=filters,
        lines=lines,
        names=names,
        next_url=next_url,
        back_url="/supervisor?" + urlencode(filters.params),
    )


def _page_key(raw: str | None) -> tuple[datetime, int] | None:
    """The (offered_at, id) a page starts after, from the previous page's link."""
    if not raw:
        return None
    moment, _, call_id = raw.rpartition("_")
    try:
        key = (datetime.fromisoformat(moment), int(call_id))
    except ValueError as exc:
        raise InvalidInput("reports.bad_page") from exc
    if key[0].tzinfo is None:
        raise InvalidInput("reports.bad_page")
    return key
