"""`hotline reports`: maintenance of the reports' roll-ups."""

import click

from hotline.config import Settings


@click.group()
def reports() -> None:
    """The call-cost reports."""


@reports.command("rebuild-rollup")
def rebuild_rollup_command() -> None:
    """Recompute the roll-ups (months, days) from the calls (after a restore or a bulk import)."""
    from hotline.db import cli_session
    from hotline.reports.rollup import rebuild_rollup

    with cli_session(Settings().resolved_database_url) as session:
        counted = rebuild_rollup(session)
        session.commit()
    click.echo(f"roll-ups rebuilt from {counted} finished calls")
