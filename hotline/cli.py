"""The `hotline` command: serve, migrate, load demo data, manage users, purge old data."""

import click
from pydantic import ValidationError

from hotline.config import Settings
from hotline.db import cli_session


@click.group()
def main() -> None:
    """Hotline: the agent desktop of a shared after-hours municipal hotline."""
    # Before any command opens a session: the workers (outbox, CTI adapters) run as commands too.
    from hotline.models import install_listeners

    install_listeners()


@main.command()
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(reload: bool) -> None:
    """Serve the web app on HOTLINE_HOST:HOTLINE_PORT."""
    import uvicorn

    from hotline.single_server import AnotherServerRunning, lock_sqlite_database

    settings = Settings()
    try:
        lock = lock_sqlite_database(settings.resolved_database_url)  # noqa: F841 (held till exit)
    except AnotherServerRunning as exc:
        raise click.ClickException(str(exc)) from None
    uvicorn.run(
        "hotline.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        reload=reload,
        proxy_headers=True,
        # Live streams never finish by themselves: on shutdown they get this long, then are cut
        # (the browsers reconnect, to another process or to this one restarted).
        timeout_graceful_shutdown=3,
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply the migrations up to REVISION (default: head); at head, load the reference data."""
    from hotline.migrate import upgrade_database

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.resolved_database_url, revision)
    click.echo(f"database at {revision}")
    if revision == "head":
        click.echo(_load_reference_data(settings))


def _load_reference_data(settings: Settings) -> str:
    """The data every installation needs (municipalities, postal codes, contact reasons)."""
    from hotline.calls.reasons import seed_contact_reasons
    from hotline.municipalities.service import load_municipalities
    from hotline.reports.rollup import rebuild_rollup_if_empty
    from hotline.rules.search import index_missing_versions

    with cli_session(settings.resolved_database_url) as session:
        municipalities = load_municipalities(session=session)
        reasons = seed_contact_reasons(session=session)
        rolled_up = rebuild_rollup_if_empty(session)
        indexed = index_missing_versions(session.connection())
        session.commit()
    return (
        f"reference data: {municipalities} municipalities, {reasons} contact reasons added; "
        f"{rolled_up} finished calls added to the roll-ups; "
        f"{indexed} rule versions indexed for search"
    )


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("load")
def demo_load() -> None:
    """Load the demo data (idempotent: running it twice changes nothing)."""
    from hotline.demo import load_demo

    settings = Settings()
    with cli_session(settings.resolved_database_url) as session:
        summary = load_demo(session=session, settings=settings)
        session.commit()
    for line in summary:
        click.echo(line)


@main.command()
@click.option("--dry-run", is_flag=True, help="Only count what would be purged.")
def purge(dry_run: bool) -> None:
    """Purge personal data past retention. The web server also does it daily."""
    from hotline.db import utcnow
    from hotline.privacy.retention import run_purge

    try:
        settings = Settings()
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from exc
    with cli_session(settings.resolved_database_url) as session:
        reports = run_purge(session, settings=settings, now=utcnow(), dry_run=dry_run)
    verb = "would be purged" if dry_run else "purged"
    for report in reports:
        cutoff = report.cutoff.strftime("%Y-%m-%d %H:%M UTC")
        if report.failed:
            click.echo(f"{report.what}: failed, nothing purged (older than {cutoff})")
        else:
            click.echo(f"{report.what}: {report.count} {verb} (older than {cutoff})")
    failed = [report.what for report in reports if report.failed]
    if failed:
        raise click.ClickException(f"the purge of {', '.join(failed)} failed; see the error above")


def _register_domain_commands() -> None:
    from hotline.auth.cli import users
    from hotline.calls.cli import calls, cti
    from hotline.letters.cli import letterheads, outbox
    from hotline.monthly.cli import insight, send_bill_bases
    from hotline.municipalities.cli import municipalities
    from hotline.reports.cli import reports
    from hotline.rules.cli import rules

    reports.add_command(send_bill_bases)
    groups = (users, calls, cti, rules, letterheads, outbox, municipalities, reports, insight)
    for group in groups:
        main.add_command(group)


_register_domain_commands()


if __name__ == "__main__":
    main()
