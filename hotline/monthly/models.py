"""The monthly documents' e-mails: one row per (kind, month, municipality), with the PDF as sent."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.calls.models import MailStatus
from hotline.db import Base, UTCDateTime, utcnow
from hotline.municipalities.models import Municipality


class MonthlyMail(Base):
    """A monthly document for one municipality, rendered once and e-mailed to its address.

    Kinds: "bill" (the bill basis) and "insight" (the monthly insight report).
    """

    __tablename__ = "monthly_mails"
    # Once per kind, month and municipality, however often or in how many processes a job runs.
    __table_args__ = (UniqueConstraint("kind", "month", "municipality_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="bill", server_default="bill")
    month: Mapped[date] = mapped_column(Date)  # the month's first day
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"), index=True)
    # The PDF is kept as generated: a document never changes after it is made, so a late
    # correction of a call shows in the live report but not in what was sent.
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    message_id: Mapped[str] = mapped_column(String(300))
    mail_status: Mapped[MailStatus] = mapped_column(
        String(8), default=MailStatus.QUEUED, index=True
    )
    mail_attempts: Mapped[int] = mapped_column(default=0)
    mail_next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mail_last_error: Mapped[str | None] = mapped_column(Text)
    mail_claimed_by: Mapped[str | None] = mapped_column(String(120))  # the sending process
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    municipality: Mapped[Municipality] = relationship(lazy="joined")
