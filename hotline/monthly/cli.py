"""The monthly documents on demand: `hotline reports send-bill-bases` and `hotline insight send`."""

from collections import Counter
from datetime import date

import click
from sqlalchemy import select

from hotline.config import Settings


@click.command("send-bill-bases")
@click.option("--month", metavar="YYYY-MM", help="The month (default: the latest finished one).")
def send_bill_bases(month: str | None) -> None:
    """Make the month's missing bill bases (once per municipality) and e-mail the due ones."""
    _make_and_send("bill", month, "bill bases")


@click.group()
def insight() -> None:
    """The monthly insight reports per municipality."""


@insight.command("send")
@click.option("--month", metavar="YYYY-MM", help="The month (default: the latest finished one).")
def send_insight_reports(month: str | None) -> None:
    """Make the month's missing insight reports (once per municipality) and e-mail the due ones."""
    _make_and_send("insight", month, "insight reports")


def _make_and_send(kind: str, month: str | None, what: str) -> None:
    from hotline.db import cli_sessions, utcnow
    from hotline.monthly.mail import deliver_due_monthly_mails
    from hotline.monthly.service import due_month, parse_month
    from hotline.monthly.worker import CREATORS

    settings = Settings()
    with cli_sessions(settings.resolved_database_url) as make_session:
        try:
            chosen = parse_month(month) if month else due_month(utcnow())
            run = CREATORS[kind](make_session=make_session, settings=settings, month=chosen)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        sent = deliver_due_monthly_mails(make_session=make_session, settings=settings)
        click.echo(
            f"{chosen:%Y-%m}: {run.created} {what} made, {run.existing} made before; "
            f"{sent} e-mailed now"
        )
        for status, count in sorted(_statuses(make_session, kind, chosen).items()):
            click.echo(f"  {status}: {count}")


def _statuses(make_session, kind: str, month: date) -> Counter:
    from hotline.monthly.models import MonthlyMail

    with make_session() as session:
        query = select(MonthlyMail.mail_status).where(
            MonthlyMail.kind == kind, MonthlyMail.month == month
        )
        return Counter(str(status) for status in session.scalars(query))
