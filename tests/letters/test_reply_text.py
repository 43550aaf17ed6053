"""The reply as the citizen reads it: line breaks kept, clean plain text, lead-in, one signature."""

import email
import email.policy
import io
import mailbox

import pytest
from pypdf import PdfReader

from hotline.kit.markdown_plain import markdown_plain
from hotline.letters.outbox import deliver_due_replies
from hotline.letters.service import create_reply
from tests.letters.conftest import reply_form

BODY = """\
Kære Søren
Tak for din henvendelse i aften.

## Det skal du gøre

1. Bestil tid på **aarhus.dk**.
2. Tag dit gamle pas med.

- Pasfoto: *højst* 6 måneder gammelt
- Se [borger.dk](https://www.borger.dk/pas)

| Ydelse | Gebyr |
|---|---:|
| Pas | 891 kr. |
| Kørekort | 280 kr. |

Venlig hilsen fra hotlinen"""

SIGNATURE = "Med venlig hilsen\nKaren Ærbødig\nDigital Hotline på vegne af Aarhus Kommune"


def _delivered(session, call, agent, settings, make_session, **changes):
    """Create an e-mail reply, deliver it through the Maildir and read the message back."""
    create_reply(
        session=session, call=call, author=agent, form=reply_form(**changes), settings=settings
    )
    session.commit()
    assert deliver_due_replies(make_session=make_session, settings=settings) == 1
    maildir = mailbox.Maildir(settings.data_dir / "mail", create=False)
    [key] = maildir.keys()
    return email.message_from_bytes(maildir.get_bytes(key), policy=email.policy.default)


def test_the_text_part_reads_as_plain_text(session, call, agent, settings, make_session):
    message = _delivered(session, call, agent, settings, make_session, body_md=BODY)

    text = message.get_body(("plain",)).get_content()
    assert (
        "Kære Søren\nTak for din henvendelse i aften.\n\n"
        "Det skal du gøre\n\n"
        "1. Bestil tid på aarhus.dk.\n2. Tag dit gamle pas med.\n\n"
        "- Pasfoto: højst 6 måneder gammelt\n- Se borger.dk (https://www.borger.dk/pas)\n\n"
        "Ydelse: Pas · Gebyr: 891 kr.\nYdelse: Kørekort · Gebyr: 280 kr.\n\n"
        "Venlig hilsen fra hotlinen\n\n"
        "Her er den regel, vi talte om:\n- Pas – fornyelse\n\n"
        f"{SIGNATURE}\n"
    ) in text
    for syntax in ("**", "##", "|", "](", "---", "*højst*"):
        assert syntax not in text, syntax


def test_the_html_part_keeps_line_breaks_and_introduces_the_rules(
    session, call, agent, settings, make_session
):
    body = "Kære Søren\nTak for din henvendelse.\n<script>alert(1)</script>"
    message = _delivered(
        session, call, agent, settings, make_session, body_md=body, topics=["pas", "storskrald"]
    )

    html = message.get_body(("html",)).get_content()
    assert "<p>Kære Søren<br>\nTak for din henvendelse.<br>\n&lt;script&gt;" in html
    assert "<script>" not in html
    assert "<p>Her er de regler, vi talte om:</p>\n  <ul><li>Pas – fornyelse</li>" in html
    assert html.count("Med venlig hilsen") == 1
    text = message.get_body(("plain",)).get_content()
    assert "Her er de regler, vi talte om:\n- Pas – fornyelse\n- Storskrald\n" in text
    assert text.count("Med venlig hilsen") == 1


def test_without_cited_rules_there_is_no_lead_in(session, call, agent, settings, make_session):
    message = _delivered(session, call, agent, settings, make_session, topics=[])

    for part in ("plain", "html"):
        content = message.get_body((part,)).get_content()
        assert "vi talte om" not in content
        assert "Med venlig hilsen" in content


def test_the_attached_letter_keeps_line_breaks_and_introduces_the_rule(
    session, call, agent, settings, make_session
):
    message = _delivered(session, call, agent, settings, make_session, body_md=BODY)

    [attachment] = list(message.iter_attachments())
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Kære Søren\nTak for din henvendelse i aften." in text
    assert "Venlig hilsen fra hotlinen\nHer er den regel, vi talte om:\nPas – fornyelse" in text
    assert text.count("Med venlig hilsen") == 1
    assert SIGNATURE in text


def test_the_composer_shows_the_signature_the_letter_gets(login, call, agent):
    html = login(agent).get(f"/console/calls/{call.id}/reply").text

    assert "Underskrift, tilføjes automatisk:" in html
    lines = "<br>".join(SIGNATURE.splitlines())
    assert f'<p class="hl-reply-signature-lines">{lines}</p>' in html
    # Right under the reply's text field, before the rules to cite.
    assert html.index('id="reply-body"') < html.index(lines) < html.index('id="cite-pas"')


def test_the_composer_signature_names_the_calls_municipality(login, make_call, agent, rules):
    odense_call = make_call(agent, "0461")

    html = login(agent).get(f"/console/calls/{odense_call.id}/reply").text

    assert "Karen Ærbødig<br>Digital Hotline på vegne af Odense Kommune</p>" in html


def test_the_preview_shows_the_same_signature(login, call, agent):
    client = login(agent)
    form = {"subject": "Om dit pas", "body_md": "Kære Søren", "topics": ["pas"]}

    pdf = client.post(f"/console/calls/{call.id}/reply/preview", data=form)
    page = client.post(f"/console/calls/{call.id}/reply/preview", data={**form, "subject": ""})

    assert pdf.headers["content-type"] == "application/pdf"
    assert SIGNATURE in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert page.status_code == 422
    assert "<br>".join(SIGNATURE.splitlines()) in page.text


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        ("# Titel\nlinje to", "Titel\n\nlinje to"),
        ("a  \nb\\\nc", "a\nb\nc"),
        ("3. tre\n4. fire\n   fortsat", "3. tre\n4. fire\n   fortsat"),
        ("- a\n- b\n  - c\n\n- d", "- a\n\n- b\n\n  - c\n\n- d"),
        ("- a\n- b\n  - c", "- a\n- b\n  - c"),
        ("| | Gebyr |\n|---|---|\n| Pas | 891 kr. |", "Pas · Gebyr: 891 kr."),
        (
            "[post@aarhus.dk](mailto:post@aarhus.dk) og <https://x.dk>",
            "post@aarhus.dk og https://x.dk",
        ),
        ("[skriv](mailto:post@aarhus.dk)", "skriv (post@aarhus.dk)"),
        ("> citat **fed**\n\n`kode` \\*ikke fed\\*", "    citat fed\n\nkode *ikke fed*"),
        ("Pas & <b>kort</b>", "Pas & <b>kort</b>"),
        ("", ""),
    ],
)
def test_markdown_as_plain_text(markdown, plain):
    assert markdown_plain(markdown) == plain
