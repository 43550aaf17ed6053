"""The insight report as PDF (read back), its API and the insight pages, with their permissions."""

import io
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from hotline.auth.models import Role
from hotline.insight.api import chosen_month
from hotline.insight.monthly import insight_month
from hotline.insight.report import insight_charts, insight_pdf, municipality_letterhead
from hotline.municipalities.models import Municipality
from tests.insight.test_insight_data import AALBORG, AARHUS, NOVEMBER, PERSONAL, add_two_months

URL = f"/api/insight/{AARHUS}/report.pdf"


def pdf_text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def assert_no_personal_data(text: str) -> None:
    for secret in PERSONAL:
        assert secret not in text


@pytest.fixture
def two_months(session, make_user):
    add_two_months(session, make_user)


def test_the_report_on_the_municipality_s_letterhead(session, settings, two_months):
    aarhus = session.get(Municipality, AARHUS)
    insight = insight_month(session, aarhus, NOVEMBER)
    letterhead = municipality_letterhead(aarhus, settings.letterheads_dir)
    made = datetime(2026, 12, 1, 6, tzinfo=UTC)
    reader, text = pdf_text(insight_pdf(insight, letterhead, generated_at=made))
    assert reader.metadata.title == "Indsigt november 2026 – Aarhus Kommune"
    assert reader.metadata.subject == (
        "Månedlig indsigt fra Digital Hotline for perioden 1. november 2026 – 30. november 2026"
    )
    assert reader.metadata.author == "Digital Hotline"
    pages = len(reader.pages)
    assert 1 <= pages <= 4 and f"Side {pages} af {pages}" in text
    for expected in (
        "Rådhuspladsen 2",  # Aarhus's own letterhead, not the hotline's
        "IND-0751-2026-11",
        "Dannet: 1. december 2026",
        "Pas 3 1 +2",
        "Flytning 2 0 +2",
        "3 af 5 besvarede opkald (60,0 %) var undgåelige",
        "aarhus.dk/borger/pas 2 1 +1",
        "selvbetjening.aarhus.dk/flyt/sag/[fjernet]",
        "Pas: aarhus.dk/borger/pas",
        "gennemsnittet er 3,7",
        "Positive kommentarer",
        "Super hjælp, ring gerne på [fjernet] igen",
        "Skeptiske kommentarer",
        "Pas til voksne 3 1",
        "Pas til voksne 1 1",
        "Ændringer siden oktober 2026",
        "Andel undgåelige (af besvarede) 60,0 % 50,0 % +10,0 pct.-point",
        "anonymiserede eksempler",
    ):
        assert expected in text, expected
    assert_no_personal_data(text)


def test_the_charts_draw_this_month_against_last_and_leave_out_empty_ones(session, two_months):
    aarhus = session.get(Municipality, AARHUS)
    charts = insight_charts(insight_month(session, aarhus, NOVEMBER))
    assert set(charts) == {"reasons", "pages", "scores"}
    reasons = charts["reasons"]
    assert "Henvendelsesårsager: november 2026 mod oktober 2026" in reasons
    # Pas: 3 this month (the longest bar, 380 wide), 1 last month (a third of it).
    assert "<title>Pas: 3 (november 2026), 1 (oktober 2026)</title>" in reasons
    assert 'width="380.0"' in reasons and 'width="126.7"' in reasons
    assert reasons.count("<g>") == len(insight_month(session, aarhus, NOVEMBER).reasons)
    assert "Karakter 5" in charts["scores"]
    for chart in charts.values():
        assert chart.startswith("<svg") and "<script" not in chart and "style=" not in chart

    empty = insight_charts(insight_month(session, aarhus, date(2026, 6, 1)))
    assert empty == {}


def test_a_municipality_without_its_own_letterhead_gets_the_default_filled(session, settings):
    herning = session.get(Municipality, "0657")
    insight = insight_month(session, herning, NOVEMBER)
    pdf = insight_pdf(insight, municipality_letterhead(herning, settings.letterheads_dir))
    reader, text = pdf_text(pdf)
    assert reader.metadata.title == "Indsigt november 2026 – Herning Kommune"
    assert "Ingen svar på tilfredshedsundersøgelsen i måneden." in text


def test_api_gives_the_pdf_to_supervisors_system_admins_and_own_admins(
    api_client, make_user, two_months
):
    for user in (
        make_user(Role.SUPERVISOR),
        make_user(Role.SYSTEM_ADMIN),
        make_user(Role.MUNICIPALITY_ADMIN, AARHUS),
    ):
        response = api_client(user).get(URL, params={"month": "2026-11"})
        assert response.status_code == 200, user.role
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == (
            'attachment; filename="indsigt_0751_aarhus_2026-11.pdf"'
        )
        reader, text = pdf_text(response.content)
        assert "Pas 3 1 +2" in text
        assert_no_personal_data(text)


def test_api_refuses_others(api_client, make_user, client, two_months):
    assert api_client(make_user(Role.MUNICIPALITY_ADMIN, AALBORG)).get(URL).status_code == 403
    assert api_client(make_user(Role.AGENT)).get(URL).status_code == 403
    assert client.get(URL).status_code == 401


def test_api_month_defaults_to_last_month_and_refuses_nonsense(api_client, make_user):
    supervisor = api_client(make_user(Role.SUPERVISOR))
    response = supervisor.get(URL)
    last_month = chosen_month(None)
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith(f'_aarhus_{last_month:%Y-%m}.pdf"')
    bad = supervisor.get(URL, params={"month": "november"})
    assert bad.status_code == 422 and "ÅÅÅÅ-MM" in bad.json()["detail"]
    future = supervisor.get(URL, params={"month": "2999-01"})
    assert future.status_code == 422 and "ikke begyndt" in future.json()["detail"]
    assert supervisor.get("/api/insight/9999/report.pdf").status_code == 404
    assert supervisor.get("/api/insight/abc/report.pdf").status_code == 422


def test_the_page_for_own_admins_and_supervisors(login, make_user, two_months, session):
    aarhus = session.get(Municipality, AARHUS)
    aarhus.participating = True
    session.commit()
    client = login(make_user(Role.MUNICIPALITY_ADMIN, AARHUS))
    index = client.get("/insight", params={"month": "2026-11"})
    assert index.status_code == 200
    assert 'href="/insight/0751?month=2026-11"' in index.text
    assert 'href="/insight"' in index.text  # the nav link
    page = client.get(f"/insight/{AARHUS}", params={"month": "2026-11"})
    assert page.status_code == 200
    for expected in (
        "Indsigt november 2026 – Aarhus Kommune",
        "aarhus.dk/borger/pas",
        "60,0 %",
        "Super hjælp, ring gerne på [fjernet] igen",
        "Pas til voksne",
        f'href="{URL}?month=2026-11"',
        'aria-labelledby="reasons-chart-title"',
        'aria-labelledby="scores-chart-title"',
    ):
        assert expected in page.text, expected
    for secret in PERSONAL:
        assert secret not in page.text
    assert client.get(f"/insight/{AALBORG}").status_code == 403
    assert client.get(f"/insight/{AARHUS}", params={"month": "x"}).status_code == 422


def test_the_page_refuses_agents_and_other_admins(login, make_user, client, two_months):
    browser = {"Accept": "text/html"}
    anonymous = client.get(f"/insight/{AARHUS}", headers=browser, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    login(make_user(Role.MUNICIPALITY_ADMIN, AALBORG))
    assert client.get(f"/insight/{AARHUS}").status_code == 403
    login(make_user(Role.AGENT))
    assert client.get(f"/insight/{AARHUS}").status_code == 403
    assert client.get("/insight").status_code == 403
    login(make_user(Role.SUPERVISOR))
    assert client.get(f"/insight/{AARHUS}").status_code == 200
