"""`hotline users`: create users and issue API tokens."""

import click
from sqlalchemy import select

from hotline.auth.models import Role, User
from hotline.auth.service import create_user, issue_api_token
from hotline.config import Settings
from hotline.kit.errors import HotlineError


@click.group()
def users() -> None:
    """Users and API tokens."""


@users.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name, shown on letters.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--municipality",
    "municipalities",
    multiple=True,
    help="Municipality code a municipality admin administers (repeatable).",
)
@click.option("--email")
@click.password_option()
def create(username, full_name, role, municipalities, email, password) -> None:
    """Create a user."""
    from hotline.cli import open_session
    from hotline.i18n import t

    with open_session(Settings()) as session:
        try:
            create_user(
                session=session,
                username=username,
                full_name=full_name,
                password=password,
                role=Role(role),
                municipality_codes=municipalities,
                email=email,
            )
        except HotlineError as exc:
            raise click.ClickException(t(exc.key, **exc.params)) from exc
        session.commit()
    click.echo(f"created {username} ({role})")


@users.command("token")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
def token(username: str, name: str) -> None:
    """Print a new personal API token for USERNAME (use it as `Authorization: Bearer …`)."""
    from hotline.cli import open_session

    with open_session(Settings()) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.is_active:
            raise click.ClickException(f"no active user {username!r}")
        value = issue_api_token(session=session, user=user, name=name)
        session.commit()
    click.echo(value)
