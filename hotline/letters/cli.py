"""`hotline letterheads` checks every letterhead; `hotline outbox run` delivers queued e-mail."""

from pathlib import Path
from urllib.parse import urlsplit

import click


@click.group()
def letterheads() -> None:
    """Municipalities' letterheads."""


@letterheads.command("check")
@click.option(
    "--dir",
    "letterheads_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The letterheads folder (default: HOTLINE_LETTERHEADS_DIR).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each sample letter to DIR/<letterhead>.pdf to look at.",
)
def check_command(letterheads_dir: Path | None, out: Path | None) -> None:
    """Render a sample letter on every letterhead (and the default) and report problems."""
    from hotline.config import Settings
    from hotline.documents.harfbuzz import MISSING_MESSAGE, harfbuzz_subset_available
    from hotline.letters.check import check_letterheads

    if harfbuzz_subset_available():
        click.echo("libharfbuzz-subset: found (fast font subsetting)")
    else:
        click.echo(f"WARNING: {MISSING_MESSAGE}", err=True)
    directory = letterheads_dir or Settings().letterheads_dir
    reports = check_letterheads(directory)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    width = max((len(r.label) for r in reports), default=0)
    for report in reports:
        summary = []
        if report.pages is not None:
            summary.append(f"{report.pages} page{'s' if report.pages != 1 else ''}")
        if report.seconds is not None:
            summary.append(f"{report.seconds:.2f} s")
        if out is not None and report.pdf is not None:
            path = out / f"{report.label.split(' ')[0]}.pdf"
            path.write_bytes(report.pdf)
            summary.append(str(path))
        status = "ok" if report.ok else "PROBLEM"
        click.echo(f"{report.label:<{width}}  {status:<7}  {', '.join(summary)}".rstrip())
        for line in report.problems:
            click.echo(f"    - {line}")
        for line in report.notes:
            click.echo(f"    note: {line}")
    failed = sum(not r.ok for r in reports)
    click.echo(f"{len(reports)} letterheads checked, {failed} with problems")
    if failed:
        raise SystemExit(1)


@click.group()
def outbox() -> None:
    """The outbox of e-mail replies."""


@outbox.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due now, then stop.")
def run_command(once: bool) -> None:
    """Deliver queued e-mail replies in a process of its own, apart from the web server.

    Running it next to the server's own worker is safe (each reply is claimed once); to leave
    delivery to this process alone, set HOTLINE_OUTBOX_WORKER=false for the server.
    """
    import asyncio
    import logging

    from hotline.config import Settings
    from hotline.db import cli_sessions
    from hotline.letters.outbox import deliver_due_replies, run_outbox_worker

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    with cli_sessions(settings.resolved_database_url) as make_session:
        if once:
            sent = deliver_due_replies(make_session=make_session, settings=settings)
            click.echo(f"{sent} replies sent")
            return
        click.echo(
            f"delivering to {_without_password(settings.resolved_mail_url)} every "
            f"{settings.outbox_interval_s:g} s (lease {settings.outbox_lease_s:g} s); Ctrl-C stops"
        )
        try:
            asyncio.run(run_outbox_worker(make_session, settings))
        except KeyboardInterrupt:
            click.echo("stopped")


def _without_password(url: str) -> str:
    password = urlsplit(url).password
    return url.replace(f":{password}@", ":***@", 1) if password else url
