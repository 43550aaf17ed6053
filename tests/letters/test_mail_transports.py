"""SMTP with STARTTLS, SMTPS and AUTH, against real aiosmtpd servers on loopback with a test CA.

trustme makes a throw-away CA and a certificate for 127.0.0.1; the client verifies it through the
mail URL's cafile, as it would a municipality relay's private CA.
"""

import email
import email.policy
import ssl
from datetime import timedelta
from urllib.parse import quote

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from hotline.db import utcnow
from hotline.letters.models import Reply, ReplyStatus
from hotline.letters.outbox import deliver_due_replies
from hotline.letters.service import create_reply
from hotline.mail.transports import MailURLError, parse_smtp_url, send_message
from tests.letters.conftest import reply_form
from tests.live import free_port

USER = "hotline@aarhus.example"
PASSWORD = "pæ@ss:w/rd"  # non-ASCII, and every character that means something in a URL
WRONG_PASSWORD = "not-the-pæssword"
# The SMTPS server below: see start_relay.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def url_quote(value: str) -> str:
    """Percent-encode a user name or password for the mail URL."""
    return quote(value, safe="")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca) -> ssl.SSLContext:
    """The server side: a certificate for 127.0.0.1 issued by the test CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def cafile(ca, tmp_path) -> str:
    path = tmp_path / "relay-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


class Relay:
    """What an aiosmtpd server saw: connections, AUTH commands, logins, and delivered messages."""

    def __init__(self) -> None:
        self.connections = 0
        self.auth_commands: list[str] = []
        self.logins: list[tuple[str, bytes, bool]] = []  # mechanism, login, accepted
        self.messages: list[tuple[email.message.EmailMessage, str | None, str | None]] = []

    # The handler hook: keep the message, who sent it and the TLS cipher it came over.
    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        cipher = server.transport.get_extra_info("cipher")
        user = session.auth_data.login.decode() if session.authenticated else None
        self.messages.append((message, user, cipher[0] if cipher else None))
        return "250 Message accepted"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        accepted = isinstance(auth_data, LoginPassword) and (
            auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        )
        self.logins.append((mechanism, auth_data.login, accepted))
        if not accepted:
            return AuthResult(success=False, handled=False)  # aiosmtpd answers 535
        return AuthResult(success=True, auth_data=auth_data)

    @property
    def users(self) -> list[str | None]:
        return [user for _, user, _ in self.messages]


class RecordingController(Controller):
    """A Controller whose server notes each connection and each AUTH command."""

    def __init__(self, relay: Relay, **kwargs) -> None:
        super().__init__(relay, hostname="127.0.0.1", port=free_port(), **kwargs)
        self.relay = relay

    def factory(self):
        relay = self.relay
        relay.connections += 1

        class RecordingSMTP(SMTP):
            async def smtp_AUTH(self, arg):  # noqa: N802
                relay.auth_commands.append(arg)
                await super().smtp_AUTH(arg)

        return RecordingSMTP(self.handler, **self.SMTP_kwargs)

    def start(self) -> None:
        super().start()
        self.relay.connections = 0  # forget the controller's own start-up connection


@pytest.fixture
def start_relay():
    """start_relay("starttls" | "smtps" | "plain", **aiosmtpd options) -> (controller, relay)."""
    started: list[Controller] = []

    def start(kind: str, tls: ssl.SSLContext | None = None, **options):
        relay = Relay()
        if kind == "starttls":
            options = (
                dict(
                    tls_context=tls,
                    require_starttls=True,
                    auth_require_tls=True,
                    auth_required=True,
                    authenticator=relay.authenticator,
                )
                | options
            )
        elif kind == "smtps":
            # aiosmtpd 1.4 tracks only STARTTLS as "TLS" and would not offer AUTH on an
            # implicit-TLS connection with auth_require_tls=True; this one is TLS from its first
            # byte (the handler checks the cipher of every message).
            options = (
                dict(
                    ssl_context=tls,
                    auth_require_tls=False,
                    auth_required=True,
                    authenticator=relay.authenticator,
                )
                | options
            )
        else:  # plain: no TLS, and any AUTH would have to go in clear text
            options = dict(authenticator=relay.authenticator, auth_require_tls=False) | options
        controller = RecordingController(relay, **options)
        controller.start()
        started.append(controller)
        return controller, relay

    yield start
    for controller in started:
        controller.stop()


def mail_url(kind: str, port: int, *, password: str = PASSWORD, cafile: str | None = None) -> str:
    credentials = f"{url_quote(USER)}:{url_quote(password)}@"
    scheme, query = ("smtps", "") if kind == "smtps" else ("smtp", "?starttls=true")
    if cafile:
        query += ("&" if query else "?") + f"cafile={url_quote(cafile)}"
    return f"{scheme}://{credentials}127.0.0.1:{port}{query}"


@pytest.fixture
def queued_reply(session, call, agent, settings) -> Reply:
    reply = create_reply(
        session=session, call=call, author=agent, form=reply_form(), settings=settings
    )
    session.commit()
    return reply


def _reload(session, reply: Reply) -> Reply:
    session.expire_all()
    return session.get(Reply, reply.id)


def _assert_queued_with_error(session, reply: Reply, *expected: str) -> str:
    """The reply failed its first attempt, stays queued for a retry; returns last_error."""
    reply = _reload(session, reply)
    assert reply.status == ReplyStatus.QUEUED
    assert reply.attempts == 1
    assert reply.next_attempt_at > utcnow() + timedelta(seconds=20)
    error = reply.last_error
    for text in expected:
        assert text in error, error
    for secret in (PASSWORD, url_quote(PASSWORD), WRONG_PASSWORD, url_quote(WRONG_PASSWORD)):
        assert secret not in error
    return error


@pytest.mark.parametrize("kind", ["starttls", "smtps"])
def test_the_outbox_delivers_over_tls_as_the_configured_user(
    kind, session, queued_reply, settings_with_mail, make_session, start_relay, server_tls, cafile
):
    controller, relay = start_relay(kind, server_tls)
    settings = settings_with_mail(mail_url(kind, controller.port, cafile=cafile))

    assert deliver_due_replies(make_session=make_session, settings=settings) == 1
    assert deliver_due_replies(make_session=make_session, settings=settings) == 0

    [(message, user, cipher)] = relay.messages
    assert user == USER
    assert cipher  # the message went over TLS
    assert [login for _, login, accepted in relay.logins if accepted] == [USER.encode()]
    reply = _reload(session, queued_reply)
    assert reply.status == ReplyStatus.SENT and reply.last_error is None
    assert message["Message-ID"].strip() == reply.message_id
    assert message["Subject"] == "Svar på din henvendelse til Aarhus Kommune"
    assert message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("kind", ["starttls", "smtps"])
def test_a_wrong_password_keeps_the_reply_queued_and_out_of_the_error(
    kind, session, queued_reply, settings_with_mail, make_session, start_relay, server_tls, cafile
):
    controller, relay = start_relay(kind, server_tls)
    url = mail_url(kind, controller.port, password=WRONG_PASSWORD, cafile=cafile)
    settings = settings_with_mail(url)

    assert deliver_due_replies(make_session=make_session, settings=settings) == 0

    _assert_queued_with_error(session, queued_reply, "SMTPAuthenticationError", "535")
    assert relay.messages == []
    assert [(login, accepted) for _, login, accepted in relay.logins] == [(USER.encode(), False)]


@pytest.mark.parametrize("kind", ["starttls", "smtps"])
def test_an_untrusted_certificate_is_refused_before_any_password_is_sent(
    kind, session, queued_reply, settings_with_mail, make_session, start_relay, server_tls
):
    controller, relay = start_relay(kind, server_tls)
    # No cafile: the system's CAs do not know the test CA.
    settings = settings_with_mail(mail_url(kind, controller.port))

    assert deliver_due_replies(make_session=make_session, settings=settings) == 0

    _assert_queued_with_error(session, queued_reply, "CERTIFICATE_VERIFY_FAILED")
    assert relay.auth_commands == [] and relay.logins == [] and relay.messages == []


@pytest.mark.parametrize("kind", ["starttls", "smtps"])
def test_a_certificate_for_another_host_is_refused(
    kind, session, queued_reply, settings_with_mail, make_session, start_relay, ca, cafile
):
    other_host = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("mail.other.example").configure_cert(other_host)
    controller, relay = start_relay(kind, other_host)
    settings = settings_with_mail(mail_url(kind, controller.port, cafile=cafile))

    assert deliver_due_replies(make_session=make_session, settings=settings) == 0

    _assert_queued_with_error(session, queued_reply, "CERTIFICATE_VERIFY_FAILED")
    assert relay.auth_commands == [] and relay.messages == []


def test_a_user_name_without_tls_is_refused_without_connecting(
    session, queued_reply, settings_with_mail, make_session, start_relay
):
    controller, relay = start_relay("plain")
    credentials = f"{url_quote(USER)}:{url_quote(PASSWORD)}"
    settings = settings_with_mail(f"smtp://{credentials}@127.0.0.1:{controller.port}")

    assert deliver_due_replies(make_session=make_session, settings=settings) == 0

    error = _assert_queued_with_error(session, queued_reply, "MailURLError", "not encrypted")
    assert "smtps://" in error and "starttls=true" in error
    assert relay.connections == 0
    assert relay.auth_commands == [] and relay.messages == []


def test_starttls_not_offered_never_falls_back_to_clear_text(
    session, queued_reply, settings_with_mail, make_session, start_relay, cafile
):
    controller, relay = start_relay("plain")  # a server (or a man in the middle) without STARTTLS
    settings = settings_with_mail(mail_url("starttls", controller.port, cafile=cafile))

    assert deliver_due_replies(make_session=make_session, settings=settings) == 0

    _assert_queued_with_error(session, queued_reply, "STARTTLS")
    assert relay.connections == 1
    assert relay.auth_commands == [] and relay.messages == []


def test_plain_smtp_without_a_user_still_delivers(
    session, queued_reply, settings_with_mail, make_session, start_relay
):
    controller, relay = start_relay("plain")
    settings = settings_with_mail(f"smtp://127.0.0.1:{controller.port}")

    assert deliver_due_replies(make_session=make_session, settings=settings) == 1

    assert relay.users == [None] and relay.auth_commands == []
    assert _reload(session, queued_reply).status == ReplyStatus.SENT


@pytest.mark.parametrize("kind", ["starttls", "smtps"])
@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_a_password_with_special_characters_works(kind, mechanism, start_relay, server_tls, cafile):
    other = "LOGIN" if mechanism == "PLAIN" else "PLAIN"
    controller, relay = start_relay(kind, server_tls, auth_exclude_mechanism=[other])
    message = email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@x.example", "b@y.example", "Hej"
    message.set_content("Hej")
    url = mail_url(kind, controller.port, cafile=cafile)
    assert "p%C3%A6%40ss%3Aw%2Frd" in url

    send_message(message, mail_url=url, file_key=1)

    assert relay.users == [USER]
    assert [(m, accepted) for m, _, accepted in relay.logins] == [(mechanism, True)]


# The mail URL itself.


def test_the_url_options_are_read_and_the_cafile_path_kept_as_written():
    target = parse_smtp_url(
        "smtp://Us%C3%A9r:p%C3%A6%40ss%3Aw%2Frd@Relay.Example:587"
        "?starttls=TRUE&cafile=/etc/Hotline/CA%20Bundle.pem"
    )
    assert (target.host, target.port, target.starttls, target.implicit_tls) == (
        "relay.example",
        587,
        True,
        False,
    )
    assert target.cafile == "/etc/Hotline/CA Bundle.pem"
    assert (target.username, target.password) == ("Usér", PASSWORD)
    assert PASSWORD not in repr(target)
    smtps = parse_smtp_url("smtps://relay.example")
    assert (smtps.port, smtps.implicit_tls, smtps.cafile, smtps.username) == (465, True, None, None)
    assert parse_smtp_url("smtp://relay.example").port == 25


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://u:s3cret@relay.example:587", "not encrypted"),
        ("smtp://u:s3cret@127.0.0.1:25?starttls=false", "not encrypted"),
        ("smtp://u:s3cret@relay.example?starttls=ture", "starttls must be true or false"),
        ("smtp://u:s3cret@relay.example?verify=false&starttls=true", "unknown mail URL option"),
        ("smtps://u:s3cret@relay.example?starttls=true", "smtps:// is encrypted"),
        ("smtp://relay.example?cafile=/etc/ca.pem", "cafile needs TLS"),
        ("smtps://u:s3cret@relay.example?cafile=", "cafile is empty"),
        ("smtps://:s3cret@relay.example", "no user name"),
        ("smtps://u:s3cret@relay.example:99999", "port"),
    ],
)
def test_a_wrong_or_unsafe_mail_url_is_refused_without_showing_the_password(url, expected):
    with pytest.raises(MailURLError, match=expected) as raised:
        parse_smtp_url(url)
    assert "s3cret" not in str(raised.value)


def test_a_missing_cafile_is_a_clear_error(start_relay, server_tls, tmp_path):
    controller, relay = start_relay("smtps", server_tls)
    missing = tmp_path / "no-such-ca.pem"
    url = f"smtps://u:s3cret@127.0.0.1:{controller.port}?cafile={missing}"
    message = email.message.EmailMessage()
    message.set_content("Hej")

    with pytest.raises(MailURLError, match="cannot read the CA certificates") as raised:
        send_message(message, mail_url=url, file_key=1)

    assert "s3cret" not in str(raised.value)
    assert relay.connections == 0


def test_the_app_refuses_to_start_with_a_mail_url_that_could_never_deliver(settings):
    from hotline.main import create_app

    unsafe = settings.model_copy(update={"mail_url": "smtp://user:hemmelig@mail.example:25"})
    with pytest.raises(RuntimeError, match="HOTLINE_MAIL_URL") as raised:
        create_app(unsafe)
    assert "hemmelig" not in str(raised.value)
    unknown = settings.model_copy(update={"mail_url": "ftp://mail.example"})
    with pytest.raises(RuntimeError, match="unsupported mail URL scheme"):
        create_app(unknown)


def test_a_delivery_error_never_shows_the_password_in_either_form(settings):
    from hotline.mail.queue import short_error

    with_password = settings.model_copy(
        update={"mail_url": "smtps://user:p%C3%A6ss%40word@mail.example:465"}
    )
    error = OSError("login failed for pæss@word (p%C3%A6ss%40word)")
    text = short_error(error, with_password)
    assert "pæss@word" not in text and "p%C3%A6ss%40word" not in text
    assert text.count("***") == 2
