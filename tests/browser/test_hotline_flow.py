"""The hotline's main paths in Chromium against the real running server (issue #2, paths 1-7)."""

import csv
import io
import re
import time
import uuid
import zipfile
from datetime import timedelta
from email import message_from_bytes, policy

from playwright.sync_api import expect
from pypdf import PdfReader

from hotline.reports.service import current_month
from tests.browser.conftest import log_in, make_ready

AARHUS_LINE = "+4588000751"


def new_call_on(live_server, to: str = AARHUS_LINE, caller: str = "+4520123456") -> str:
    """Report a new call as the telephony platform would; returns the call's reference."""
    response = live_server.post_cti(
        event="newCall", direction="in", callId=uuid.uuid4().hex, to=to, **{"from": caller}
    )
    assert response.status_code == 200, response.text
    return response.json()["reference"]


def wait_for(condition, timeout: float = 15.0, interval: float = 0.2):
    """Poll until condition() is truthy; returns its value or fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def test_agent_takes_a_call_reads_rules_replies_and_wraps_up(page, live_server, tmp_path):
    # 1. The telephony platform reports a call on Aarhus's after-hours line.
    reference = new_call_on(live_server, caller="+45 20 12 34 56")
    with live_server.api("agent") as api:
        waiting = api.get("/api/calls", params={"state": "waiting"}).json()
    call = next(c for c in waiting if c["reference"] == reference)
    assert call["from"] == "+4520123456"

    # 2. The agent sees it in the queue and picks it up; Aarhus is preselected from the line.
    log_in(page, "agent")
    make_ready(page)
    row = page.locator("#queue tr", has_text="+4520123456").first
    row.wait_for()
    row.get_by_role("button").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#call-heading").inner_text() == reference
    assert "Aarhus Kommune" in page.locator("#municipality-picker").inner_text()

    # ... and can find a municipality by postal code (9000 is Aalborg), without choosing it.
    page.fill("#municipality-q", "9000")
    page.locator("#municipality-hits").get_by_text("Aalborg").first.wait_for()

    # 3. The rules panel shows Aarhus's resolved rules, with where each part comes from.
    page.locator("#rule-topics [data-topic=pas]").click()
    detail = page.locator("#rule-detail")
    detail.get_by_text("Dokk1").first.wait_for()
    assert "Lokal" in detail.inner_text() and "National" in detail.inner_text()
    with live_server.api("agent") as api:
        resolved = api.get(
            "/api/rules/resolve", params={"municipality": "0751", "topic": "pas"}
        ).json()
    assert resolved["mode"] == "replace" and resolved["local"]["scope"] == "0751"

    # 4. The agent cites the rule, writes a reply, downloads the PDF and sends the e-mail.
    detail.locator("[data-cite-topic=pas]").click()
    assert page.locator("#cite-pas").is_checked()
    page.fill("#reply-recipient-name", "Jens Jensen")
    page.fill("#reply-recipient-address", "Søndergade 1\n8000 Aarhus C")
    page.fill("#reply-recipient-email", "jens@example.dk")
    page.fill("#reply-body", "Tak for din henvendelse om **pas** i aften.")
    with page.expect_download() as download_info:
        page.locator("#reply-form button[name=channel][value=pdf]").click()
    pdf_path = tmp_path / "svar.pdf"
    download_info.value.save_as(pdf_path)
    text = "\n".join(p.extract_text() for p in PdfReader(pdf_path).pages)
    for expected in (
        "Aarhus Kommune",
        reference,
        "Jens Jensen",
        "Dokk1",
        "Digital Hotline på vegne af Aarhus Kommune",
        "Side 1 af",
    ):
        assert expected in text, expected

    page.locator("#reply-form button[hx-vals*=email]").click()
    message_file = wait_for(lambda: next(iter((live_server.maildir / "new").glob("*")), None))
    message = message_from_bytes(message_file.read_bytes(), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "jens@example.dk"
    assert "Aarhus Kommune" in str(message["From"])
    attachments = list(message.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    page.locator(f"#replies-{call['id']}").get_by_text("Sendt").first.wait_for(timeout=15_000)

    # 5. Wrap-up with a contact reason and an outcome; the durations are recorded.
    page.select_option("#contact-reason", "pas")
    page.check("#outcome-answered")
    page.locator("#wrap-up-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert reference in page.locator("main").inner_text()
    with live_server.api("supervisor") as api:
        done = api.get(f"/api/calls/{call['id']}").json()
    assert done["state"] == "done"
    assert done["contact_reason_code"] == "pas" and done["outcome"] == "answered"
    assert done["talk_seconds"] is not None and done["wait_seconds"] is not None


def _resolved_aarhus_pas(live_server) -> dict:
    with live_server.api("agent") as api:
        return api.get("/api/rules/resolve", params={"municipality": "0751", "topic": "pas"}).json()


def test_aarhus_admin_edits_aarhus_rule_and_agent_sees_it_but_not_aalborg(chromium, live_server):
    # 6. The admin of Aarhus changes Aarhus's passport rule: first as a draft ...
    admin_context = chromium.new_context(base_url=live_server.url)
    admin = admin_context.new_page()
    errors: list[str] = []
    admin.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(admin, "admin-aarhus")
    admin.goto("/admin/rules/0751/pas")
    marker = f"Ny lokal tekst {uuid.uuid4().hex[:6]}"
    admin.fill("#body_md", f"{marker}: pas kun efter aftale.")
    admin.get_by_role("button", name="Gem kladde").click()
    admin.get_by_text("Kladden er gemt").wait_for()
    assert "Kladde – ikke udgivet" in admin.locator("main").inner_text()
    assert marker in admin.input_value("#body_md")  # the edit page loads the draft
    # ... which agents do not see yet ...
    assert all(marker not in s["body_md"] for s in _resolved_aarhus_pas(live_server)["sections"])

    # ... previewed exactly as the console will show it (the console's own template) ...
    admin.get_by_role("button", name="Vis forhåndsvisning").click()
    preview = admin.locator("#draft-preview .hl-rule")
    preview.get_by_text(marker).wait_for()
    assert "Forhåndsvisning" in admin.locator("#draft-preview").inner_text()
    assert "Lokal · Aarhus Kommune" in preview.inner_text()

    # ... and published: now the agent sees it.
    admin.get_by_role("button", name="Udgiv").click()
    admin.wait_for_load_state("networkidle")
    assert "/admin/rules?" in admin.url and "er gemt som version" in admin.inner_text("main")
    assert marker in _resolved_aarhus_pas(live_server)["sections"][-1]["body_md"]
    assert errors == [], f"browser console errors: {errors}"

    # ... and cannot change Aalborg's: the server refuses, not just the page.
    assert admin.goto("/admin/rules/0851/pas").status == 403
    status = admin.evaluate(
        """async () => {
            const headers = JSON.parse(document.body.getAttribute('hx-headers'));
            const body = new URLSearchParams({
                csrf_token: headers['X-CSRF-Token'], expected_version: '1', mode: 'append',
                body_md: 'overtaget', title: '', category: ''});
            return (await fetch('/admin/rules/0851/pas/draft/publish',
                                {method: 'POST', body})).status;
        }"""
    )
    assert status == 403
    admin_context.close()

    # The agent sees the new text for Aarhus.
    with live_server.api("agent") as api:
        resolved = api.get(
            "/api/rules/resolve", params={"municipality": "0751", "topic": "pas"}
        ).json()
        assert marker in resolved["sections"][-1]["body_md"]
        aalborg = api.get(
            "/api/rules/resolve", params={"municipality": "0851", "topic": "pas"}
        ).json()
        assert all(marker not in s["body_md"] for s in aalborg["sections"])


def test_supervisor_downloads_the_cost_report_as_csv(chromium, live_server, tmp_path):
    # 7. A wrapped-up call shows in the period's cost report, split per municipality.
    page = chromium.new_context(base_url=live_server.url, accept_downloads=True).new_page()
    log_in(page, "supervisor")
    page.goto("/supervisor")
    # The page opens on the last complete month; the call was wrapped up in this one.
    first, last = current_month()
    assert page.locator("#period-to").input_value() == (first - timedelta(days=1)).isoformat()
    page.fill("#period-from", first.isoformat())
    page.fill("#period-to", last.isoformat())
    # Only Aarhus, in Region Midtjylland: its figures are those of the whole split. Aarhus is
    # found by typing (å for aa), Enter ticks the one hit; a region's box ticks all of it.
    page.locator(".hl-picker-summary").click()
    search = page.get_by_label("Find kommune")
    expect(search).to_be_focused()
    search.fill("århus")
    expect(page.locator("[data-picker-item]:visible")).to_have_count(1)
    search.press("Enter")
    assert page.locator("#municipality-0751").is_checked()
    search.fill("")
    page.get_by_role("group", name="Region Nordjylland").get_by_label("Vælg hele regionen").check()
    expect(page.locator("[data-picker-count]")).to_have_text("12 kommuner valgt")
    page.select_option("#report-region", "1082")  # leaves only Midtjylland's municipalities
    expect(page.locator("[data-picker-count]")).to_have_text("1 kommune valgt")
    expect(page.get_by_role("group", name="Region Nordjylland")).to_be_hidden()
    page.get_by_role("button", name="Vis", exact=True).click()
    page.wait_for_url(re.compile(r"/supervisor\?.*region=1082&municipality=0751$"))
    assert page.locator("svg.hl-chart").count() == 2
    # The bill bases as a zip, made in the background: progress, then the download.
    page.get_by_role("button", name=re.compile("Lav afregningsgrundlag")).click()
    expect(page.locator(".hl-report-job-label")).to_contain_text("1 kommune")
    done = page.get_by_role("link", name=re.compile(r"Hent afregningsgrundlag_.*\.zip"))
    done.wait_for(timeout=60_000)
    with page.expect_download() as zip_info:
        done.click()
    names = zipfile.ZipFile(zip_info.value.path()).namelist()
    assert sorted(names)[0].startswith("afregningsgrundlag_0751_aarhus_") and len(names) == 2
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV (Excel)", exact=True).click()
    assert download_info.value.suggested_filename.endswith("-excel.csv")
    path = tmp_path / "cost.csv"
    download_info.value.save_as(path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so Danish Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["kommunekode", "kommune"]
    aarhus = next(r for r in body if r[0] == "0751")
    assert int(aarhus[header.index("besvarede")]) >= 1
    assert re.fullmatch(r"\d+,\d{2}", aarhus[header.index("omkostning_kr")])
    assert {r[0] for r in body[:-1]} == {"0751"}
    # The calls behind Aarhus's row, without the caller's number.
    page.get_by_role("link", name="Aarhus Kommune").click()
    page.wait_for_url(re.compile(r"/supervisor/calls\?"))
    assert page.locator("tbody tr").count() >= 1
    assert "+45" not in page.locator("main").inner_text()

    # The replies sent in path 4 are in the archive; the filter swaps the results in place.
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.get_by_role("link", name="Arkiv").click()
    page.fill("#archive-q", "jens@example.dk")
    page.get_by_role("button", name="Søg", exact=True).click()
    page.wait_for_url(re.compile(r"/arkiv\?.*q=jens%40example\.dk"))
    row = page.locator(".hl-archive-table tbody tr", has_text="jens@example.dk").first
    row.wait_for()
    assert "Aarhus Kommune" in row.inner_text()
    href = row.locator("a.hl-archive-download").get_attribute("href")
    assert re.fullmatch(r"/api/replies/\d+\.pdf", href)
    assert errors == [], f"browser console errors: {errors}"
    page.context.close()


def test_agent_flags_a_rule_and_the_aarhus_admin_closes_it(page, chromium, live_server):
    # 8. During a call on Aarhus's line, the agent flags the passport rule as unclear ...
    new_call_on(live_server, caller="+45 20 99 88 77")
    log_in(page, "agent")
    make_ready(page)
    row = page.locator("#queue tr", has_text="+4520998877").first
    row.wait_for()
    row.get_by_role("button").click()
    page.wait_for_load_state("networkidle")
    page.locator("#rule-topics [data-topic=pas]").click()
    summary = page.locator("#rule-flag summary")
    summary.wait_for()
    summary.focus()
    page.keyboard.press("Enter")  # the disclosure opens from the keyboard
    page.get_by_label("Uklar").check()
    with page.expect_response(lambda r: r.url.endswith("/flags")) as refused:
        page.locator("#rule-flag button[type=submit]").click()
    # ... a missing comment is explained in the form (a 422 htmx swaps), the chosen kind kept ...
    assert refused.value.status == 422
    page.locator("#rule-flag-error").wait_for()
    assert page.get_by_label("Uklar").is_checked()
    comment = f"Skal borgeren bestille tid? {uuid.uuid4().hex[:6]}"
    page.get_by_label("Kommentar til kommunens administrator").fill(comment)
    page.locator("#rule-flag button[type=submit]").click()
    page.get_by_text("Tak – kommunens administrator får besked").wait_for()
    assert page.locator("#hl-flash").is_hidden()

    # ... and the admin of Aarhus sees it on the rule list and closes it with a note.
    admin_context = chromium.new_context(base_url=live_server.url)
    admin = admin_context.new_page()
    errors: list[str] = []
    admin.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(admin, "admin-aarhus")
    admin.goto("/admin/rules?municipality=0751")
    admin.locator("a.hl-flag-count[href*='topic=pas']").click()
    entry = admin.locator(".hl-rule-flag-entry", has_text=comment)
    entry.wait_for()
    assert "Mette Hansen" in entry.inner_text() and "Uklar" in entry.inner_text()
    entry.get_by_label("Hvad er der gjort?").fill("Tidsbestilling er nu nævnt i teksten.")
    entry.get_by_role("button", name="Luk markering").click()
    admin.get_by_text("Markeringen er lukket.").wait_for()
    assert admin.locator(".hl-rule-flag-entry", has_text=comment).count() == 0
    admin.get_by_role("link", name="Lukkede").click()
    admin.locator(".hl-rule-flag-entry", has_text=comment).wait_for()
    admin_context.close()
    assert errors == [], f"browser console errors: {errors}"

    # The agent sees the admin's note under the rule, then wraps up the call.
    page.locator("#rule-topics [data-topic=pas]").click()
    page.locator("#rule-flag").get_by_text("Tidsbestilling er nu nævnt i teksten.").wait_for()
    page.select_option("#contact-reason", "pas")
    page.check("#outcome-answered")
    page.locator("#wrap-up-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
