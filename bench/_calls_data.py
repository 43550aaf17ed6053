"""The data of bench/calls.py: agents with API tokens, a supervisor, a letter writer's call."""

from dataclasses import dataclass

from sqlalchemy import select

from hotline.auth.models import Role
from hotline.auth.service import create_user, issue_api_token
from hotline.calls.models import AgentState, AgentStatus, Call
from hotline.calls.reasons import seed_contact_reasons
from hotline.db import make_engine, make_sessionmaker, utcnow
from hotline.municipalities.demo_lines import demo_dialled_number
from hotline.reports.rates import ensure_default_cost_rate

try:
    from bench import _letters_data as letters
except ImportError:  # run as a script (bench/ itself is on sys.path)
    import _letters_data as letters

PASSWORD = "bench-password-123456"


@dataclass(frozen=True)
class Seed:
    """Who the bench acts as: agents' tokens, the supervisor's, the letter writer and its call."""

    agent_tokens: list[str]
    supervisor_token: str
    letters_token: str
    letters_call_id: int
    line: str  # the dialled number of the participating line (Aarhus)


def build_database(url: str, agents: int) -> Seed:
    """Migrate and seed (with the letters bench's data), then the agents, ready to take calls."""
    (writer,) = letters.build_database(url, 1)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        seed_contact_reasons(session=session)
        ensure_default_cost_rate(session=session)
        tokens = []
        for n in range(agents):
            user = create_user(
                session=session,
                username=f"bench-agent-{n:03d}",
                full_name=f"Bench Agent {n:03d}",
                password=PASSWORD,
                role=Role.AGENT,
            )
            tokens.append(issue_api_token(session=session, user=user, name="bench"))
            # "Klar" from the start, as agents at work are: their consoles get the take buttons.
            session.add(AgentStatus(user_id=user.id, state=AgentState.AVAILABLE, since=utcnow()))
        supervisor = create_user(
            session=session,
            username="bench-supervisor",
            full_name="Bench Supervisor",
            password=PASSWORD,
            role=Role.SUPERVISOR,
        )
        supervisor_token = issue_api_token(session=session, user=supervisor, name="bench")
        session.commit()
    engine.dispose()
    return Seed(tokens, supervisor_token, writer.token, writer.call_id, _line())


def _line() -> str:
    return demo_dialled_number(letters.CODE)


def call_rows(url: str) -> dict[str, tuple[str, int | None]]:
    """Every call's (state, agent id) by reference."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = session.execute(select(Call.reference, Call.state, Call.agent_id))
        found = {reference: (str(state), agent) for reference, state, agent in rows}
    engine.dispose()
    return found


def agent_ids(url: str) -> dict[str, int]:
    """The bench agents' user ids by username."""
    from hotline.auth.models import User

    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = session.execute(select(User.username, User.id).where(User.role == Role.AGENT))
        found = dict(rows.all())
    engine.dispose()
    return found
