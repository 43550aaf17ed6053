"""The main pages, rendered with the demo data, write numbers and dates the Danish way.

Danish: "1.105,34", "7. december 2026". Not: "1,105.34", "1105", "2026-12-07", "07.12.2026".
Only visible text is read: attribute values, scripts and raw data blocks (<pre>, <code>,
<textarea>) are for machines or are typed input.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser

from sqlalchemy import select

from hotline.auth.models import Role
from hotline.calls.models import Call, Callback, CallbackStatus
from hotline.db import utcnow
from hotline.demo import load_demo
from hotline.insight.models import SurveyInvite

UNSEEN = {"script", "style", "template", "pre", "code", "textarea", "title"}
ENGLISH = {
    "ISO date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "numeric date": re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b"),
    "thousands comma": re.compile(r"(?<![\d,.])[1-9]\d{0,2}(?:,\d{3})+(?![\d,])"),
    "decimal point": re.compile(r"(?<![\d.])\d+\.\d(?![\d.])|(?<![\d.])0\.\d{2,}(?![\d.])"),
    # 1000 and up without a thousands point; years, phone numbers and "RFC 4180" aside.
    "no thousands point": re.compile(r"(?<![+\d,.])(?<!RFC )(?!(?:19|20)\d\d\b)[1-9]\d{3,}(?!\d)"),
}  # fmt: skip
PAGES = {
    Role.SYSTEM_ADMIN: ["/admin/audit", "/admin/privacy/access", "/admin/users", "/admin/cti",
                        "/account", "/admin/callbacks"],
    Role.SUPERVISOR: ["/supervisor", "/supervisor/cost-model", "/supervisor/contact-reasons",
                      "/supervisor/survey", "/insight", "/insight/0751", "/arkiv",
                      "/supervisor/calls?from=2026-01-01&to=2026-12-31"],
    Role.MUNICIPALITY_ADMIN: ["/admin/rules?municipality=0751", "/admin/rules/flags",
                              "/admin/search?municipality=0751", "/admin/essentials",
                              "/admin/callbacks", "/admin/survey?municipality=0751"],
    Role.AGENT: ["/console", "/console/rules/pas?municipality=0751",
                 "/console/essentials?municipality=0751"],
}  # fmt: skip


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in UNSEEN

    def handle_endtag(self, tag):
        self.hidden -= tag in UNSEEN

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a reader sees, on one line."""
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def english_numbers(text: str) -> list[str]:
    """Each number or date written the English (or ISO) way, with its surroundings."""
    return [
        f"{name}: …{text[max(0, m.start() - 40) : m.end() + 20]}…"
        for name, pattern in ENGLISH.items()
        for m in pattern.finditer(text)
    ]


def _more_demo_data(session, agent) -> None:
    """What the demo lacks for these pages: callbacks, one done, and a survey answer."""
    calls = session.scalars(
        select(Call).where(Call.municipality_code == "0751").order_by(Call.id).limit(2)
    ).all()
    for call, done in zip(calls, (False, True), strict=True):
        session.add(
            Callback(
                call_id=call.id, municipality_code="0751", booked_by_id=agent.id,
                caller_name="Søren Østergård", caller_phone="+4520123456",
                question="Vil tale med Borgerservice om pas.", preferred_time="i morgen",
                status=CallbackStatus.DONE if done else CallbackStatus.OPEN,
                handled_at=utcnow() if done else None,
            )
        )  # fmt: skip
    session.add(
        SurveyInvite(
            call_id=calls[0].id, code="DANSK1", expires_at=utcnow() + timedelta(days=14),
            answered_at=utcnow(), score=4, comment="God hjælp",
        )
    )  # fmt: skip
    session.commit()


def test_main_pages_write_numbers_and_dates_the_danish_way(
    session, settings, make_user, client, login
):
    load_demo(session=session, settings=settings)
    session.commit()
    users = {
        Role.SYSTEM_ADMIN: make_user(Role.SYSTEM_ADMIN),
        Role.SUPERVISOR: make_user(Role.SUPERVISOR),
        Role.MUNICIPALITY_ADMIN: make_user(Role.MUNICIPALITY_ADMIN, "0751"),
        Role.AGENT: make_user(Role.AGENT),
    }
    _more_demo_data(session, users[Role.AGENT])
    found, texts = [], {}
    for role, urls in PAGES.items():
        client.cookies.clear()
        client.headers.pop("X-CSRF-Token", None)
        login(users[role])
        for url in urls:
            page = client.get(url)
            assert page.status_code == 200, (url, page.status_code)
            texts[url] = visible_text(page.text)
            found += [f"{url} {problem}" for problem in english_numbers(texts[url])]
    assert found == [], "\n".join(found)
    # And the Danish forms are there, not merely the English ones gone.
    assert "1.006 kr." in texts["/console/rules/pas?municipality=0751"]  # Aarhus's passport fee
    assert "kontrolleret 23. november 2026" in texts["/console/rules/pas?municipality=0751"]
    assert "25.000,00" in texts["/supervisor/cost-model"]  # the platform's monthly cost
    assert re.search(r"Aktiv \d{1,3}\.\d{3}", texts["/supervisor/contact-reasons"])
    assert re.search(r"\d\. [a-zæøå]+ 20\d\d kl\. \d\d\.\d\d", texts["/admin/audit"])


def test_the_check_finds_english_numbers_and_dates():
    text = "1,105.34 kr. 1105 opkald 2026-12-07 07.12.2026 3.7 0.125"
    kinds = [problem.split(":")[0] for problem in english_numbers(text)]
    assert sorted(kinds) == sorted(
        ["ISO date", "numeric date", "thousands comma", "decimal point", "decimal point",
         "no thousands point"]
    )  # fmt: skip
    danish = "1.105,34 kr. 1.105 opkald 7. december 2026 kl. 18.05 3,7 0,125 2026 RFC 4180 (0751)"
    assert english_numbers(danish) == []
