"""Delivering an e-mail through the transport the mail URL names: Maildir, SMTP or SMTPS.

SMTP always verifies the server's certificate and host name (against the system's CAs, or the
mail URL's cafile), and never sends a password over an unencrypted connection.
"""

import base64
import os
import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

SMTP_TIMEOUT_S = 30


def send_message(
    message: EmailMessage,
    *,
    mail_url: str,
    file_key: int | str,
    accepted: Callable[[], None] = lambda: None,
) -> None:
    """Deliver through the transport the mail URL names (maildir://, smtp://, smtps://).

    accepted is called the moment the message is delivered: when the file is in new/, or when
    the mail server has answered the end of DATA with 250, before QUIT. file_key names the
    Maildir file (fixed per queued row, so a re-delivery overwrites); SMTP does not use it.
    """
    parts = urlsplit(mail_url)
    scheme = parts.scheme.lower()
    if scheme == "maildir":
        write_to_maildir(message, Path(unquote(parts.netloc + parts.path)), file_key=file_key)
        accepted()
    elif scheme in ("smtp", "smtps"):
        _send_smtp(message, parse_smtp_url(mail_url), accepted)
    else:
        raise ValueError(f"unsupported mail URL scheme: {scheme!r}")


def check_mail_url(mail_url: str) -> None:
    """Raise MailURLError now for a mail URL that could never deliver (checked at start-up)."""
    scheme = urlsplit(mail_url).scheme.lower()
    if scheme in ("smtp", "smtps"):
        parse_smtp_url(mail_url)
    elif scheme != "maildir":
        raise MailURLError(f"unsupported mail URL scheme: {scheme!r} (maildir, smtp or smtps)")


def write_to_maildir(message: EmailMessage, directory: Path, *, file_key: int | str) -> Path:
    """Write the message into new/ under a name fixed by the key, so a re-delivery overwrites."""
    # Not mailbox.Maildir(create=True): the outbox sends on several threads, and its "make the
    # folder, then its subfolders" races (one thread fails on the folder, another lists a cur/
    # not yet made).
    for part in ("tmp", "new", "cur"):
        (directory / part).mkdir(mode=0o700, parents=True, exist_ok=True)
    # The replies' prefix for every queue: the files keep the names they have always had.
    name = f"hotline-reply-{file_key}"
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


class MailURLError(ValueError):
    """The mail URL is malformed or would be unsafe (a password over an unencrypted connection)."""


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to send: what an smtp:// or smtps:// mail URL says."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    cafile: str | None
    username: str | None
    password: str | None = field(default=None, repr=False)

    @property
    def encrypted(self) -> bool:
        return self.implicit_tls or self.starttls


_OPTIONS = ("starttls", "cafile")
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def parse_smtp_url(mail_url: str) -> SmtpTarget:
    """Read an smtp:// or smtps:// mail URL; raise MailURLError rather than guess.

    smtp://user:pass@host:587?starttls=true, smtps://user:pass@host:465, each with an optional
    &cafile=/path/to/ca.pem. User and password are percent-encoded. Credentials are refused
    unless the connection is encrypted (smtps:// or starttls=true), whatever the host.
    The messages never contain the URL, so never the password.
    """
    parts = urlsplit(mail_url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise MailURLError(f"not an SMTP mail URL: scheme {scheme!r}")
    try:
        port = parts.port
    except ValueError:
        raise MailURLError("the mail URL's port is not a number from 0 to 65535") from None
    options: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in _OPTIONS:
            raise MailURLError(f"unknown mail URL option {name!r} (known: {', '.join(_OPTIONS)})")
        if name in options:
            raise MailURLError(f"the mail URL option {name!r} is given twice")
        options[name] = value
    starttls_value = options.get("starttls", "false").lower()
    if starttls_value not in _TRUE + _FALSE:
        raise MailURLError(f"starttls must be true or false, not {starttls_value!r}")
    implicit_tls = scheme == "smtps"
    starttls = starttls_value in _TRUE
    if implicit_tls and starttls:
        raise MailURLError("starttls=true is for smtp://; smtps:// is encrypted from the start")
    cafile = options.get("cafile")
    if cafile is not None:
        if not cafile:
            raise MailURLError("cafile is empty: give the path of a PEM file of CA certificates")
        if not (implicit_tls or starttls):
            raise MailURLError("cafile needs TLS: use smtps:// or smtp://…?starttls=true")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise MailURLError("the mail URL has a password but no user name")
    target = SmtpTarget(
        host=parts.hostname or "localhost",
        port=port or (465 if implicit_tls else 25),
        implicit_tls=implicit_tls,
        starttls=starttls,
        cafile=cafile,
        username=username,
        password=password,
    )
    if username and not target.encrypted:
        raise MailURLError(
            "the mail URL has a user name but the connection is not encrypted: use smtps:// "
            "or add ?starttls=true (a password is never sent in clear text, not even on loopback)"
        )
    return target


def _tls_context(cafile: str | None) -> ssl.SSLContext:
    """Verify the server's certificate and host name, always: against cafile if given."""
    try:
        return ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise MailURLError(f"cannot read the CA certificates in cafile {cafile!r}: {exc}") from exc


def _send_smtp(message: EmailMessage, target: SmtpTarget, accepted: Callable[[], None]) -> None:
    context = _tls_context(target.cafile) if target.encrypted else None
    if target.implicit_tls:
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=SMTP_TIMEOUT_S, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_S)
    try:
        if target.starttls:
            # Raises when the server offers no STARTTLS: never a fall-back to clear text.
            client.starttls(context=context)
        if target.username:
            _login(client, target.username, target.password or "")
        client.send_message(message)  # returns on the server's 250 to the end of DATA
        accepted()
    finally:
        # After the server's 250 the message is delivered (and recorded): a failed or slow QUIT
        # changes nothing.
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH PLAIN (or LOGIN) with UTF-8 credentials.

    smtplib's login() encodes user and password as ASCII and so fails on a password like "pæ…";
    RFC 4616 (PLAIN) says UTF-8. Only ever called on an encrypted connection.
    """
    client.ehlo_or_helo_if_needed()
    if not client.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("the mail server offers no authentication (AUTH)")
    offered = client.esmtp_features["auth"].upper().split()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    user, secret = username.encode("utf-8"), password.encode("utf-8")
    if "PLAIN" in offered:
        code, response = client.docmd("AUTH", "PLAIN " + b64(b"\0" + user + b"\0" + secret))
    elif "LOGIN" in offered:
        code, response = client.docmd("AUTH", "LOGIN " + b64(user))
        if code == 334:
            code, response = client.docmd(b64(secret))
    else:
        raise smtplib.SMTPNotSupportedError(
            "the mail server offers neither AUTH PLAIN nor AUTH LOGIN: "
            + client.esmtp_features["auth"]
        )
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, response)
