"""A real SMTP server for e-mail tests: aiosmtpd on loopback, keeping what it receives."""

import email
import email.policy


class Inbox:
    """An aiosmtpd handler that keeps every message and its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.url = ""  # smtp://127.0.0.1:<port> once its server runs (the smtp_inbox fixture)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"
