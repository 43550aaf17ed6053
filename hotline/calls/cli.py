"""`hotline calls`: simulate the telephony platform against a running server."""

import click


@click.group()
def calls() -> None:
    """Calls and the telephony platform."""
