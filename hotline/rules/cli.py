"""`hotline rules`: import and export the knowledge base files."""

import click


@click.group()
def rules() -> None:
    """The layered rule store."""
