"""The cost report's CSV (Danish Excel and RFC 4180) and XLSX exports, read back as a user would."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, ContactReason, Outcome
from hotline.reports.service import cost_report, ensure_default_cost_rate

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = [
    "kommunekode",
    "kommune",
    "opkald",
    "besvarede",
    "opgivne",
    "besvaret_uden_for_hotline",
    "forbindelse_tabt",
    "gns_ventetid_sek",
    "ventetid_p90_sek",
    "samtaleminutter",
    "efterbehandlingsminutter",
    "minutter",
    "udgaaende_opkald",
    "udgaaende_taleminutter",
    "variabel_omkostning_kr",
    "fast_omkostning_kr",
    "omkostning_kr",
    "pris_pr_besvaret_kr",
    "baseline_kr",
    "besparelse_kr",
    "besparelse_pct",
    "andel_pct",
    "undgaaelige_pct",
    "top_aarsager",
]
# Minutes: the total is of the summed seconds, so it may differ from the rounded rows' sum.
MINUTE_COLUMNS = [
    "samtaleminutter",
    "efterbehandlingsminutter",
    "minutter",
    "udgaaende_taleminutter",
]
TEXT_COLUMNS = {"kommunekode", "kommune", "top_aarsager"}
SUMMED = [  # the columns whose total is exactly the sum of the rows
    "opkald",
    "besvarede",
    "opgivne",
    "besvaret_uden_for_hotline",
    "forbindelse_tabt",
    "udgaaende_opkald",
    "variabel_omkostning_kr",
    "fast_omkostning_kr",
    "omkostning_kr",
    "baseline_kr",
    "besparelse_kr",
]
# What the calls carry that no aggregate export may show.
PERSONAL = ["+4520304050", "20304050", "+4587654321", "Søren Østergård", "cpr 010190", "DH-X"]
_numbers = iter(range(1, 1000))


def add_call(session, code, *, talk=0, acw=0, wait=30, reason=None, avoidable=False, line=None):
    """A call in November with a caller number and personal notes (abandoned when talk is None)."""
    n = next(_numbers)
    offered = datetime(2026, 11, 10, 18, 0, tzinfo=UTC) + timedelta(minutes=n)
    answered = None if talk is None else offered + timedelta(seconds=wait)
    ended = (answered or offered) + timedelta(seconds=talk or 0)
    session.add(
        Call(
            reference=f"DH-X{n:05d}",
            from_number="+4520304050",
            to_number="+4587654321",
            municipality_code=code,
            line_municipality_code=line,
            state=CallState.ABANDONED if answered is None else CallState.DONE,
            offered_at=offered,
            answered_at=answered,
            ended_at=ended,
            wrapped_up_at=ended + timedelta(seconds=acw) if answered else None,
            outcome=Outcome.ANSWERED if answered else None,
            contact_reason_code=reason,
            avoidable=avoidable,
            avoidable_url="https://aarhus.dk/pas?borger=soren" if avoidable else None,
            notes="Søren Østergård ringede om sit pas; cpr 010190 oplyst.",
        )
    )


@pytest.fixture
def calls(session):
    """Aarhus and Randers (region 1082), Aalborg, Odense by line, an unknown caller, København."""
    ensure_default_cost_rate(session=session)
    session.add_all(
        [
            ContactReason(code="pas", label="Pas", sort_order=1),
            ContactReason(code="mitid", label="MitID", sort_order=2),
            ContactReason(code="flytning", label="Flytning", sort_order=3),
        ]
    )
    session.flush()
    add_call(session, "0751", talk=187, acw=61, wait=12, reason="pas", avoidable=True)
    add_call(session, "0751", talk=421, acw=33, wait=40, reason="pas")
    add_call(session, "0751", talk=59, acw=7, wait=95, reason="mitid")
    add_call(session, "0751", talk=None)
    add_call(session, "0730", talk=233, acw=119, reason="flytning")
    add_call(session, "0851", talk=97, acw=13, reason="mitid")
    add_call(session, None, line="0461", talk=100, acw=20)
    add_call(session, None, talk=77, acw=5)
    add_call(session, "0101", talk=None)  # only abandoned: no wait, no price per call
    session.commit()


def _csv(api, **params):
    response = api.get("/api/reports/cost.csv", params={**NOVEMBER, **params})
    assert response.status_code == 200, response.text
    return response


def _rows(response, dialect="excel-da") -> list[dict[str, str]]:
    if dialect == "excel-da":
        lines = csv.reader(
            io.StringIO(response.content.decode("utf-8-sig"), newline=""), delimiter=";"
        )
    else:
        lines = csv.reader(io.StringIO(response.content.decode("utf-8"), newline=""))
    header, *rows = list(lines)
    assert header == HEADER
    return [dict(zip(header, row, strict=True)) for row in rows]


def _number(text: str, point: str = ".") -> Decimal | None:
    return Decimal(text.replace(point, ".")) if text else None


@pytest.fixture
def supervisor(api_client, make_user):
    return api_client(make_user(Role.SUPERVISOR))


def test_cost_csv_in_the_danish_excel_dialect(supervisor, calls):
    response = _csv(supervisor)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == (
        'attachment; filename="opkaldsomkostninger_2026-11-01_2026-11-30-excel.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert lines.pop() == ""  # every line ends in CRLF
    assert lines[0] == ";".join(HEADER)
    aarhus = next(line for line in lines if line.startswith("0751;"))
    # Calls 4/3/1; waits 12, 40, 95 s (p90 95); talk 667 s, after-call 101 s; 768 s handled
    # at 450 kr./h plus 667 s of telephony at 0.10 kr./min.
    assert aarhus.startswith("0751;Aarhus Kommune;4;3;1;0;0;49,0;95;11,12;1,68;12,80;0;0,00;97,11;")
    assert aarhus.endswith(";33,3;Pas (2), MitID (1)")
    assert lines[-1].startswith(";I alt;9;7;2;")
    rows = _rows(response)
    for column in SUMMED:
        total = sum(_number(r[column], ",") for r in rows[:-1])
        assert total == _number(rows[-1][column], ","), column
    for column in MINUTE_COLUMNS:  # each row rounds to 0.01 min; the total rounds once
        total = sum(_number(r[column], ",") for r in rows[:-1])
        assert abs(total - _number(rows[-1][column], ",")) <= Decimal("0.005") * len(rows), column
    assert _number(rows[-1]["fast_omkostning_kr"], ",") == Decimal("25000.00")


def test_rfc4180_dialect_parses_to_the_same_numbers(supervisor, calls, session):
    danish = _rows(_csv(supervisor))
    response = _csv(supervisor, dialect="rfc4180")
    assert response.headers["content-disposition"] == (
        'attachment; filename="opkaldsomkostninger_2026-11-01_2026-11-30-rfc4180.csv"'
    )  # not the Excel file's name: both can be downloaded side by side
    assert not response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8")
    assert text.count("\r\n") == len(danish) + 1 and "\n" not in text.replace("\r\n", "")
    assert text.startswith(",".join(HEADER) + "\r\n")
    assert '"Pas (2), MitID (1)"' in text  # quoted: it holds the separator
    plain = _rows(response, "rfc4180")
    assert len(plain) == len(danish)
    for ours, theirs in zip(plain, danish, strict=True):
        for column in HEADER:
            if column in TEXT_COLUMNS:
                assert ours[column] == theirs[column]
            else:
                assert _number(ours[column]) == _number(theirs[column], ","), column
    report = cost_report(session=session, start=date(2026, 11, 1), end=date(2026, 11, 30))
    by_code = {r["kommunekode"]: r for r in plain[:-1]}
    for row in report.rows:
        line = by_code[row.code]
        assert _number(line["omkostning_kr"]) == row.total_cost
        assert _number(line["besparelse_kr"]) == row.savings
        assert _number(line["andel_pct"]) == row.share_pct
    copenhagen = by_code["0101"]
    assert (copenhagen["opkald"], copenhagen["besvarede"]) == ("1", "0")
    for empty in ("gns_ventetid_sek", "ventetid_p90_sek", "pris_pr_besvaret_kr", "undgaaelige_pct"):
        assert copenhagen[empty] == "", empty
    assert by_code[""]["kommune"] == "Ukendt kommune"
    assert by_code["0461"]["opkald"] == "1"  # billed to the line's municipality


def test_unknown_dialect_is_refused_in_danish(supervisor, calls):
    response = supervisor.get("/api/reports/cost.csv", params={**NOVEMBER, "dialect": "excel"})
    assert response.status_code == 422
    assert "Ukendt CSV-format: excel" in response.json()["detail"]
    assert "rfc4180" in response.json()["detail"]


def test_filters_change_the_rows_and_the_totals(supervisor, calls):
    everything = _rows(_csv(supervisor))
    two = _rows(_csv(supervisor, municipality=["0751", "0851"]))
    region = _rows(_csv(supervisor, region="1082", dialect="rfc4180"), "rfc4180")
    assert [r["kommunekode"] for r in two] == ["0751", "0851", ""]
    assert [r["kommunekode"] for r in region] == ["0730", "0751", ""]
    assert two[-1]["kommune"] == region[-1]["kommune"] == "I alt"
    for rows, point in ((two, ","), (region, ".")):
        for column in SUMMED:
            total = sum(_number(r[column], point) for r in rows[:-1])
            assert total == _number(rows[-1][column], point), column
    # A filter never changes a municipality's bill, only which rows (and totals) are shown.
    by_code = {r["kommunekode"]: r for r in everything}
    assert two[0] == by_code["0751"]
    assert two[-1]["opkald"] == "5" and everything[-1]["opkald"] == "9"
    assert _number(two[-1]["omkostning_kr"], ",") < _number(everything[-1]["omkostning_kr"], ",")


def _workbook(api, **params):
    response = api.get("/api/reports/cost.xlsx", params={**NOVEMBER, **params})
    assert response.status_code == 200, response.text
    return response, openpyxl.load_workbook(io.BytesIO(response.content))


def test_xlsx_has_typed_numbers_formats_frozen_header_and_totals(supervisor, calls):
    response, workbook = _workbook(supervisor)
    assert response.headers["content-type"] == XLSX_TYPE
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == (
        'attachment; filename="opkaldsomkostninger_2026-11-01_2026-11-30.xlsx"'
    )
    assert workbook.sheetnames == ["Omkostninger", "Periode"]
    sheet = workbook["Omkostninger"]
    header, *rows = [list(r) for r in sheet.iter_rows()]
    assert [c.value for c in header][:3] == ["Kommunekode", "Kommune", "Opkald"]
    assert header[-1].value == "Hyppigste årsager" and len(header) == len(HEADER)
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref == f"A1:X{len(rows)}"  # the totals row stays out of sorting
    columns = {key: i for i, key in enumerate(HEADER)}
    aarhus = next(r for r in rows if r[0].value == "0751")
    assert aarhus[columns["kommune"]].value == "Aarhus Kommune"
    assert aarhus[columns["opkald"]].value == 4 and aarhus[columns["opkald"]].data_type == "n"
    cost = aarhus[columns["variabel_omkostning_kr"]]
    assert cost.value == pytest.approx(97.11) and cost.number_format == '#,##0.00 "kr."'
    share = aarhus[columns["undgaaelige_pct"]]
    assert share.value == pytest.approx(33.3) and share.number_format == '0.0" %"'
    assert aarhus[columns["top_aarsager"]].value == "Pas (2), MitID (1)"
    copenhagen = next(r for r in rows if r[0].value == "0101")
    assert copenhagen[columns["pris_pr_besvaret_kr"]].value is None
    totals = rows[-1]
    assert totals[1].value == "I alt"
    assert totals[1].font.b and totals[columns["omkostning_kr"]].font.b
    for column in SUMMED:
        i = columns[column]
        assert totals[i].data_type == "n" and totals[i].value is not None
        summed = sum(Decimal(str(r[i].value)) for r in rows[:-1])
        assert summed == Decimal(str(totals[i].value)), column
    # The same numbers as the CSV.
    plain = _rows(_csv(supervisor, dialect="rfc4180"), "rfc4180")
    for line, row in zip(plain, rows, strict=True):
        for column, i in columns.items():
            value = row[i].value
            if column in TEXT_COLUMNS:
                assert (value or "") == line[column], column
            else:
                expected = _number(line[column])
                assert (None if value is None else Decimal(str(value))) == expected, column


def test_xlsx_says_which_period_filters_and_method_it_shows(supervisor, calls):
    response, workbook = _workbook(supervisor, municipality=["0751", "0851"])
    assert workbook.properties.title == "Opkaldsomkostninger 2026-11-01 – 2026-11-30"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "<Company>Hotline</Company>" in archive.read("docProps/app.xml").decode()
    info = {row[0]: row[1] for row in workbook["Periode"].iter_rows(values_only=True) if row[1]}
    assert info["Periode"] == "1. november 2026 – 30. november 2026"
    assert info["Kommuner"] == "0751, 0851" and info["Region"] == "Alle"
    assert info["Fordeling af faste omkostninger"] == "Efter andel af besvarede opkald"
    assert info["Dannet"].startswith(tuple(f"{d}. " for d in range(1, 32)))
    notes = [row[0] for row in workbook["Periode"].iter_rows(values_only=True) if not row[1]]
    assert any("valgte kommuner" in (note or "") for note in notes)
    codes = [row[0] for row in workbook["Omkostninger"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["0751", "0851", None]


def test_xlsx_of_a_period_without_calls_has_a_zero_totals_row(supervisor, session):
    ensure_default_cost_rate(session=session)
    session.commit()
    _, workbook = _workbook(supervisor, **{"from": "2026-02-01", "to": "2026-02-28"})
    rows = list(workbook["Omkostninger"].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][1] == "I alt" and rows[1][2] == 0


def test_a_formula_like_label_stays_text(supervisor, calls, session):
    session.get(ContactReason, "pas").label = '=HYPERLINK("http://x";"Pas")'
    session.commit()
    rows = _rows(_csv(supervisor))
    assert next(r for r in rows if r["kommunekode"] == "0751")["top_aarsager"].startswith("'=")
    _, workbook = _workbook(supervisor)
    cell = next(r for r in workbook["Omkostninger"].iter_rows() if r[0].value == "0751")[-1]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_no_export_carries_personal_data(supervisor, calls):
    contents = [
        _csv(supervisor).content.decode("utf-8-sig"),
        _csv(supervisor, dialect="rfc4180").content.decode("utf-8"),
    ]
    xlsx, _ = _workbook(supervisor)
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as archive:
        contents += [archive.read(name).decode("utf-8") for name in archive.namelist()]
    assert any("Aarhus Kommune" in text for text in contents[2:])  # the parts were read
    for text in contents:
        for secret in PERSONAL + ["aarhus.dk/pas", "borger=soren"]:
            assert secret not in text


def add_unanswered(session, code, state, *, answered_after=None, talk=0):
    """A November call no agent answered, with the phone system's answer when it had one."""
    n = next(_numbers)
    offered = datetime(2026, 11, 12, 18, 0, tzinfo=UTC) + timedelta(minutes=n)
    answered = None if answered_after is None else offered + timedelta(seconds=answered_after)
    session.add(
        Call(
            reference=f"DH-X{n:05d}",
            direction="out" if state == CallState.OUTGOING else "in",
            municipality_code=code,
            state=state,
            offered_at=offered,
            answered_at=answered,
            ended_at=(answered or offered) + timedelta(seconds=talk),
            # Marks an agent would set; the report ignores them on a call no agent answered.
            contact_reason_code="pas",
            avoidable=True,
        )
    )


def test_calls_answered_elsewhere_lost_and_outgoing_have_columns_and_cost_nothing(
    supervisor, calls, session
):
    *before_rows, before_totals = _rows(_csv(supervisor, dialect="rfc4180"), "rfc4180")
    before = {r["kommunekode"]: r for r in before_rows}
    add_unanswered(session, "0751", CallState.ELSEWHERE, answered_after=20, talk=300)
    add_unanswered(session, "0751", CallState.ELSEWHERE)  # forwarded while it waited
    add_unanswered(session, "0751", CallState.LOST, talk=900)
    add_unanswered(session, "0751", CallState.OUTGOING, answered_after=10, talk=150)
    add_unanswered(session, "0751", CallState.OUTGOING, answered_after=8, talk=141)
    add_unanswered(session, "0751", CallState.OUTGOING, talk=30)  # nobody picked up
    add_unanswered(session, "0147", CallState.OUTGOING, answered_after=5, talk=60)
    session.commit()
    *rows, totals = _rows(_csv(supervisor, dialect="rfc4180"), "rfc4180")
    after = {r["kommunekode"]: r for r in rows}
    aarhus = after["0751"]
    assert (aarhus["opkald"], aarhus["besvarede"], aarhus["opgivne"]) == ("7", "3", "1")
    assert (aarhus["besvaret_uden_for_hotline"], aarhus["forbindelse_tabt"]) == ("2", "1")
    assert (aarhus["udgaaende_opkald"], aarhus["udgaaende_taleminutter"]) == ("3", "4.85")
    # No wait, minutes, reason or avoidable contact of theirs; nothing billed for them.
    unchanged = ["besvarede", "gns_ventetid_sek", "ventetid_p90_sek", "minutter", "top_aarsager"]
    unchanged += ["variabel_omkostning_kr", "fast_omkostning_kr", "baseline_kr", "undgaaelige_pct"]
    for code, row in before.items():
        for column in unchanged:
            assert after[code][column] == row[column], (code, column)
    # A municipality with only outgoing calls: a row of its own, no share of any cost.
    frederiksberg = after["0147"]
    assert (frederiksberg["opkald"], frederiksberg["udgaaende_opkald"]) == ("0", "1")
    assert frederiksberg["udgaaende_taleminutter"] == "1.00"
    assert frederiksberg["omkostning_kr"] == "0.00" and frederiksberg["andel_pct"] == "0.0"
    assert (totals["opkald"], totals["besvaret_uden_for_hotline"]) == ("12", "2")
    assert (totals["forbindelse_tabt"], totals["udgaaende_opkald"]) == ("1", "4")
    for column in unchanged[1:]:
        assert totals[column] == before_totals[column], column
    assert totals["omkostning_kr"] == before_totals["omkostning_kr"]
    _, workbook = _workbook(supervisor)
    header = [c.value for c in next(workbook["Omkostninger"].iter_rows())]
    for label in ("Besvaret uden for Hotline", "Forbindelse tabt", "Udgående opkald"):
        assert label in header
    assert "Udgående taletid (min.)" in header
