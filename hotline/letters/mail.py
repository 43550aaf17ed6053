"""A reply as an e-mail (text + HTML + the PDF) and the transports: Maildir, SMTP, SMTPS."""

import mailbox
import os
import smtplib
import ssl
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hotline.db import utcnow
from hotline.i18n import t
from hotline.letters.letterheads import Letterhead
from hotline.letters.models import Reply
from hotline.letters.render import TEMPLATES_DIR
from hotline.letters.service import pdf_filename

SMTP_TIMEOUT_S = 30
_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(default=True)
)
_env.globals.update(t=t)


def _markdown(text: str) -> str:
    from hotline.kit.markdown import render_markdown

    return render_markdown(text)


def build_reply_message(reply: Reply, *, letterhead: Letterhead, mail_from: str) -> EmailMessage:
    """The e-mail of a reply: multipart/alternative text and HTML, with the PDF attached."""
    message = EmailMessage()
    local, _, domain = mail_from.partition("@")
    sender_name = t("letters.mail.from_name", municipality=letterhead.name)
    message["From"] = Address(display_name=sender_name, username=local, domain=domain)
    if letterhead.email:
        message["Reply-To"] = Address(display_name=letterhead.name, addr_spec=letterhead.email)
    message["To"] = Address(display_name=reply.recipient_name, addr_spec=reply.recipient_email)
    message["Subject"] = reply.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = reply.message_id
    context = {"reply": reply, "letterhead": letterhead}
    message.set_content(_env.get_template("mail.txt").render(context))
    message.add_alternative(
        _env.get_template("mail.html").render(context, body_html=_markdown(reply.body_md)),
        subtype="html",
    )
    message.add_attachment(
        reply.pdf, maintype="application", subtype="pdf", filename=pdf_filename(reply)
    )
    return message


def send_message(message: EmailMessage, *, mail_url: str, reply_id: int) -> None:
    """Deliver through the transport the mail URL names (maildir://, smtp://, smtps://)."""
    parts = urlsplit(mail_url)
    scheme = parts.scheme.lower()
    if scheme == "maildir":
        write_to_maildir(message, Path(unquote(parts.netloc + parts.path)), reply_id=reply_id)
    elif scheme in ("smtp", "smtps"):
        _send_smtp(message, parts, implicit_tls=scheme == "smtps")
    else:
        raise ValueError(f"unsupported mail URL scheme: {scheme!r}")


def write_to_maildir(message: EmailMessage, directory: Path, *, reply_id: int) -> Path:
    """Write the message into new/ under a name fixed by the reply, so a re-delivery overwrites."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    mailbox.Maildir(directory, create=True)
    name = f"hotline-reply-{reply_id}"
    seen = directory / "cur"
    if any(entry.split(":", 1)[0] == name for entry in os.listdir(seen)):
        return seen  # a mail client has already picked it up: delivered before
    temporary = directory / "tmp" / f"{name}.{uuid.uuid4().hex}"
    with open(temporary, "wb") as f:
        f.write(message.as_bytes())
        f.flush()
        os.fsync(f.fileno())
    target = directory / "new" / name
    os.replace(temporary, target)
    return target


def _send_smtp(message: EmailMessage, parts, *, implicit_tls: bool) -> None:
    host = parts.hostname or "localhost"
    port = parts.port or (465 if implicit_tls else 25)
    options = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    context = ssl.create_default_context()
    if implicit_tls:
        client = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_S, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_S)
    try:
        if not implicit_tls and options.get("starttls") in ("true", "1", "yes"):
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
    finally:
        # After the server's 250 the message is delivered: a failed QUIT must not make it look
        # undelivered, or the outbox would send it again.
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
