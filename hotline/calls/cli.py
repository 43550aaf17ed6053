"""`hotline calls`: simulate the telephony platform; `hotline cti`: its integrations, Asterisk."""

import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import click
import httpx

from hotline.config import Settings
from hotline.kit.dates import COPENHAGEN


@click.group()
def calls() -> None:
    """Calls and the telephony platform."""


def random_mobile_number() -> str:
    """A random Danish mobile number in E.164."""
    return f"+45{random.choice('2345')}{random.randint(0, 9_999_999):07d}"


def simulate_calls(
    client: httpx.Client,
    *,
    token: str,
    count: int,
    to_numbers: list[str],
    from_number: str | None = None,
    hangup_after: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Send newCall (and optionally hangup) events; returns the references of the calls."""
    references = []
    pending_hangups = []
    for _ in range(count):
        call_id = uuid.uuid4().hex
        response = client.post(
            f"/api/cti/{token}",
            data={
                "event": "newCall",
                "from": from_number or random_mobile_number(),
                "to": random.choice(to_numbers),
                "direction": "in",
                "callId": call_id,
            },
        )
        _raise_for(response)
        references.append(response.json()["reference"])
        pending_hangups.append(call_id)
    if hangup_after is not None:
        sleep(hangup_after)
        for call_id in pending_hangups:
            response = client.post(
                f"/api/cti/{token}",
                data={"event": "hangup", "callId": call_id, "cause": "normalClearing"},
            )
            _raise_for(response)
    return references


def _raise_for(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise click.ClickException(f"the server answered {response.status_code}: {response.text}")


@calls.command("simulate")
@click.option("--url", help="Server base URL (default http://HOTLINE_HOST:HOTLINE_PORT).")
@click.option("--token", help="An integration's CTI token (default HOTLINE_CTI_TOKEN).")
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 1000))
@click.option("--to", "to_number", help="Dialled number (default a participating line).")
@click.option("--from", "from_number", help="Caller number (default a random mobile).")
@click.option("--hangup-after", type=click.FloatRange(0), help="Also hang up after SECONDS.")
def simulate(url, token, count, to_number, from_number, hangup_after) -> None:
    """Post CTI events for COUNT new calls and print their references."""
    settings = Settings()
    url = url or f"http://{settings.host}:{settings.port}"
    token = token or settings.cti_token
    if not token:
        raise click.ClickException("HOTLINE_CTI_TOKEN is empty: give --token (see `hotline cti`)")
    to_numbers = [to_number] if to_number else _participating_lines(settings)
    with httpx.Client(base_url=url, timeout=10) as client:
        try:
            references = simulate_calls(
                client,
                token=token,
                count=count,
                to_numbers=to_numbers,
                from_number=from_number,
                hangup_after=hangup_after,
            )
        except httpx.HTTPError as exc:
            raise click.ClickException(f"could not reach {url}: {exc}") from exc
    for reference in references:
        click.echo(reference)


def _participating_lines(settings: Settings) -> list[str]:
    from hotline.db import cli_session
    from hotline.municipalities.service import list_participating

    with cli_session(settings.resolved_database_url) as session:
        numbers = [m.dialled_number for m in list_participating(session=session)]
    numbers = [n for n in numbers if n]
    if not numbers:
        raise click.ClickException("no participating municipality has a line; give --to")
    return numbers


@click.group()
def cti() -> None:
    """CTI integrations: the phone systems allowed to post call events, each with its own token."""


@cti.command("create")
@click.argument("name")
def cti_create(name: str) -> None:
    """Create integration NAME and print its token (shown only this once)."""
    token = _cti_change("create_integration", name=name)
    click.echo(token)
    click.echo(f"CTI URL: /api/cti/{token}  (keep it secret; only its SHA-256 is stored)", err=True)


@cti.command("rotate")
@click.argument("name")
@click.option(
    "--grace-hours", type=click.FloatRange(0), help="Default HOTLINE_CTI_ROTATION_GRACE_HOURS."
)
def cti_rotate(name: str, grace_hours: float | None) -> None:
    """Give NAME a new token; the old one keeps working for the grace period."""
    settings = Settings()
    hours = settings.cti_rotation_grace_hours if grace_hours is None else grace_hours
    token = _cti_change("rotate_integration", name=name, grace=timedelta(hours=hours))
    click.echo(token)
    click.echo(f"The old token works for {hours:g} more hours.", err=True)


@cti.command("revoke")
@click.argument("name")
def cti_revoke(name: str) -> None:
    """Stop NAME's token (and an old one in its grace period) at once."""
    _cti_change("revoke_integration", name=name)
    click.echo(f"{name}: revoked")


@cti.command("list")
def cti_list() -> None:
    """Every integration's tokens: state, created, last used, ended."""
    from hotline.calls.integrations import list_integrations
    from hotline.db import cli_session

    with cli_session(Settings().resolved_database_url) as session:
        rows = list_integrations(session=session)
    if not rows:
        click.echo("no CTI integrations (create one with `hotline cti create NAME`)")
    for row in rows:
        click.echo(
            f"{row.name}\t{row.state}\tcreated {_local(row.created_at)}"
            f"\tlast used {_local(row.last_used_at)}\tends {_local(row.revoked_at)}"
        )


def _cti_change(function: str, **kwargs):
    """Run one change of hotline.calls.integrations and commit it; errors as Danish messages."""
    from hotline.calls import integrations
    from hotline.db import cli_session
    from hotline.i18n import t
    from hotline.kit.errors import HotlineError

    with cli_session(Settings().resolved_database_url) as session:
        try:
            result = getattr(integrations, function)(session=session, actor=None, **kwargs)
        except HotlineError as exc:
            raise click.ClickException(t(exc.key, **exc.params)) from exc
        session.commit()
    return result[1] if isinstance(result, tuple) else result


def _local(value: datetime | None) -> str:
    return value.astimezone(COPENHAGEN).strftime("%Y-%m-%d %H:%M") if value else "-"


@cti.command("asterisk")
def cti_asterisk() -> None:
    """Record Asterisk's queue events (AMI) as CTI events until SIGTERM or Ctrl-C.

    Connects to HOTLINE_ASTERISK_HOST:HOTLINE_ASTERISK_PORT as HOTLINE_ASTERISK_USERNAME, and
    connects again after any loss; a login refused at the start ends it with an error.
    """
    import asyncio
    import logging

    from hotline.calls.asterisk import AsteriskAdapter, AsteriskLoginError, run_until_signalled
    from hotline.db import cli_sessions

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    if not settings.asterisk_username or not settings.asterisk_secret:
        raise click.ClickException(
            "set HOTLINE_ASTERISK_USERNAME and HOTLINE_ASTERISK_SECRET (a manager.conf user)"
        )
    with cli_sessions(settings.resolved_database_url) as make_session:
        adapter = AsteriskAdapter(make_session, settings)
        click.echo(f"recording Asterisk's queue events from {adapter.address}; Ctrl-C stops")
        try:
            asyncio.run(run_until_signalled(adapter))
        except AsteriskLoginError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo("stopped")
