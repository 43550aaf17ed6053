"""The report's filters (period, municipalities, region) as every report route reads them."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import Query
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from hotline.calls.models import Call
from hotline.kit.errors import InvalidInput
from hotline.municipalities.models import Municipality
from hotline.reports.period import utc_midnight
from hotline.reports.service import CostReport, cost_report, parse_period

_CODE = re.compile(r"^\d{4}$")
MAX_CODES = 200


@dataclass(frozen=True)
class ReportFilters:
    """A period (Danish local dates, both inclusive) and optionally some municipalities."""

    start: date
    end: date
    municipalities: tuple[str, ...] = ()
    region: str | None = None

    @property
    def params(self) -> list[tuple[str, str]]:
        """The filters as query parameters, for links to other views and exports."""
        pairs = [("from", self.start.isoformat()), ("to", self.end.isoformat())]
        pairs += [("municipality", code) for code in self.municipalities]
        return pairs + ([("region", self.region)] if self.region else [])


def report_filters(
    start: str = Query(alias="from", max_length=10),
    end: str = Query(alias="to", max_length=10),
    municipality: list[str] = Query(default_factory=list, max_length=MAX_CODES),
    region: str | None = Query(None, max_length=4),
) -> ReportFilters:
    """The filters of a request: ?from=…&to=…[&municipality=0751…][&region=1082]."""
    return checked_filters(start, end, municipality, region)


def checked_filters(
    start: str, end: str, municipalities: list[str] = (), region: str | None = None
) -> ReportFilters:
    """Filters from raw strings; a bad date, code or region is refused with a clear message."""
    first, last = parse_period(start, end)
    codes = tuple(dict.fromkeys(c.strip() for c in municipalities if c.strip()))
    bad = [c for c in codes if not _CODE.match(c)]
    if bad or len(codes) > MAX_CODES:
        raise InvalidInput("reports.bad_municipality", code=(bad or codes)[0][:10])
    region = (region or "").strip() or None
    if region is not None and not _CODE.match(region):
        raise InvalidInput("reports.bad_region", region=region[:10])
    return ReportFilters(first, last, codes, region)


# The billed municipality of a call: the one the agent chose, else the line's.
BILLED_CODE = func.coalesce(Call.municipality_code, Call.line_municipality_code)


def calls_of(filters: ReportFilters) -> ColumnElement[bool]:
    """The calls offered in the period (Danish dates) and billed to the chosen municipalities."""
    condition = and_(
        Call.offered_at >= utc_midnight(filters.start),
        Call.offered_at < utc_midnight(filters.end + timedelta(days=1)),
    )
    if filters.municipalities:
        condition &= BILLED_CODE.in_(filters.municipalities)
    if filters.region:
        in_region = select(Municipality.code).where(Municipality.region_code == filters.region)
        condition &= BILLED_CODE.in_(in_region.scalar_subquery())
    return condition


def filtered_report(
    *, session: Session, filters: ReportFilters, whole: CostReport | None = None
) -> CostReport:
    """The report of the whole hotline (given or made), restricted to the filters' municipalities.

    Every municipality's cost is that of the whole split, so a filter never changes a bill.
    """
    report = whole or cost_report(session=session, start=filters.start, end=filters.end)
    if not filters.municipalities and not filters.region:
        return report
    codes = {row.code for row in report.rows}
    if filters.municipalities:
        codes &= set(filters.municipalities)
    if filters.region:
        in_region = select(Municipality.code).where(Municipality.region_code == filters.region)
        codes &= set(session.scalars(in_region))
    return report.only(codes)
