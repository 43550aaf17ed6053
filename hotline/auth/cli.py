"""`hotline users`: list, create, change and deactivate users; set passwords; issue API tokens.

Every change is audited with the actor "system": the command line is run by the server's operator.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from hotline.auth import users as accounts
from hotline.auth.models import Role
from hotline.auth.service import issue_api_token
from hotline.config import Settings
from hotline.kit.errors import HotlineError

ROLES = click.Choice([r.value for r in Role])
MUNICIPALITIES = click.option(
    "--municipality",
    "municipalities",
    multiple=True,
    help="Municipality code a municipality admin administers (repeatable).",
)


@click.group()
def users() -> None:
    """Users and API tokens."""


@contextmanager
def _session() -> Iterator[Session]:
    """A session committed at the end; a service error becomes a Danish message and exit code 1."""
    from hotline.db import cli_session
    from hotline.i18n import t

    with cli_session(Settings().resolved_database_url) as session:
        try:
            yield session
        except HotlineError as exc:
            raise click.ClickException(t(exc.key, **exc.params)) from exc
        session.commit()


@users.command("list")
@click.option("--role", type=ROLES, help="Only users with this role.")
@click.option("--municipality", help="Only admins of this municipality (code).")
@click.option(
    "--status",
    type=click.Choice(["active", "inactive", "all"]),
    default="all",
    show_default=True,
)
@click.option("--search", default="", help="Text in the username, name or e-mail.")
def list_command(role, municipality, status, search) -> None:
    """Print the users, one a line: username, role, status, municipalities, name, e-mail."""
    with _session() as session:
        found = accounts.list_users(
            session=session,
            role=Role(role) if role else None,
            municipality_code=municipality,
            active={"active": True, "inactive": False}.get(status),
            text=search,
        )
        for user in found:
            fields = (
                user.username,
                str(user.role),
                "active" if user.is_active else "inactive",
                ",".join(sorted(user.municipality_codes)),
                user.full_name,
                user.email or "",
            )
            click.echo("\t".join(fields))


@users.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name, shown on letters.")
@click.option("--role", type=ROLES, required=True)
@MUNICIPALITIES
@click.option("--email")
@click.password_option(help="At least 12 characters; asked for when not given.")
def create(username, full_name, role, municipalities, email, password) -> None:
    """Create a user (the password policy applies)."""
    with _session() as session:
        accounts.add_user(
            session=session,
            actor=None,
            username=username,
            full_name=full_name,
            role=role,
            password=password,
            email=email,
            municipality_codes=municipalities,
        )
    click.echo(f"created {username} ({role})")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLES)
@MUNICIPALITIES
def set_role(username: str, role: str, municipalities: tuple[str, ...]) -> None:
    """Give USERNAME a new ROLE; a municipality admin keeps their municipalities unless given."""
    with _session() as session:
        user = accounts.find_user(session=session, username=username)
        if role != Role.MUNICIPALITY_ADMIN:
            codes = []
        else:
            codes = list(municipalities) or sorted(user.municipality_codes)
        accounts.update_user(
            session=session,
            actor=None,
            user=user,
            full_name=user.full_name,
            email=user.email,
            role=role,
            municipality_codes=codes,
        )
    click.echo(f"{username} is now {role}" + (f" of {', '.join(codes)}" if codes else ""))


@users.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Stop USERNAME logging in and end their sessions; nothing of theirs is deleted."""
    with _session() as session:
        user = accounts.find_user(session=session, username=username)
        accounts.deactivate_user(session=session, actor=None, user=user)
    click.echo(f"deactivated {username}")


@users.command("reactivate")
@click.argument("username")
def reactivate(username: str) -> None:
    """Let a deactivated USERNAME log in again."""
    with _session() as session:
        user = accounts.find_user(session=session, username=username)
        accounts.reactivate_user(session=session, actor=None, user=user)
    click.echo(f"reactivated {username}")


@users.command("set-password")
@click.argument("username")
@click.password_option(help="At least 12 characters; asked for when not given.")
def set_password(username: str, password: str) -> None:
    """Give USERNAME a new password (the policy applies) and end their sessions."""
    with _session() as session:
        user = accounts.find_user(session=session, username=username)
        accounts.set_password(session=session, actor=None, user=user, password=password)
    click.echo(f"password set for {username}")


@users.command("token")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
def token(username: str, name: str) -> None:
    """Print a new personal API token for USERNAME (use it as `Authorization: Bearer …`)."""
    with _session() as session:
        user = accounts.find_user(session=session, username=username)
        if not user.is_active:
            raise click.ClickException(f"no active user {username!r}")
        value = issue_api_token(session=session, user=user, name=name)
    click.echo(value)
