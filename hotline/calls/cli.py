"""`hotline calls`: simulate the telephony platform against a running server."""

import random
import time
import uuid
from collections.abc import Callable

import click
import httpx

from hotline.config import Settings


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
@click.option("--token", help="CTI token (default HOTLINE_CTI_TOKEN).")
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 1000))
@click.option("--to", "to_number", help="Dialled number (default a participating line).")
@click.option("--from", "from_number", help="Caller number (default a random mobile).")
@click.option("--hangup-after", type=click.FloatRange(0), help="Also hang up after SECONDS.")
def simulate(url, token, count, to_number, from_number, hangup_after) -> None:
    """Post CTI events for COUNT new calls and print their references."""
    settings = Settings()
    url = url or f"http://{settings.host}:{settings.port}"
    to_numbers = [to_number] if to_number else _participating_lines(settings)
    with httpx.Client(base_url=url, timeout=10) as client:
        try:
            references = simulate_calls(
                client,
                token=token or settings.cti_token,
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
    from hotline.cli import open_session
    from hotline.municipalities.service import list_participating

    with open_session(settings) as session:
        numbers = [m.dialled_number for m in list_participating(session=session)]
    numbers = [n for n in numbers if n]
    if not numbers:
        raise click.ClickException("no participating municipality has a line; give --to")
    return numbers
