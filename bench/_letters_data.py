"""Data of bench/letters.py: a database of agents with open calls and the shipped rules; letters.

Every agent has an API token and one active call from Aarhus (0751, its own letterhead), so each
client writes its replies on its own call. The letters are the same for the product and the floor:
1p is three paragraphs of the agent's text (a full page), 3p eight paragraphs and three cited
rules of the shipped knowledge base; a number in the text makes every letter different.
"""

import itertools
from dataclasses import dataclass

from sqlalchemy import update

from hotline.auth.models import Role
from hotline.auth.service import create_user, issue_api_token
from hotline.calls.models import Call, CallState
from hotline.config import PROJECT_ROOT
from hotline.db import make_engine, make_sessionmaker
from hotline.migrate import upgrade_database
from hotline.municipalities.demo_lines import demo_dialled_number
from hotline.municipalities.models import Municipality
from hotline.municipalities.service import load_municipalities
from hotline.rules.importer import import_rules
from hotline.rules.resolve import resolve_rule

CODE, MUNICIPALITY = "0751", "Aarhus Kommune"
SUBJECT = "Svar på din henvendelse til Aarhus Kommune"
RECIPIENT_NAME = "Søren Østergård"
RECIPIENT_ADDRESS = "Åboulevarden 12, 2. th.\n8000 Aarhus C"
AUTHOR = "Karen Ærbødig"
SENTENCE = "Forklaring om reglerne for netop din sag, og hvad du skal gøre nu. "
# size -> (paragraphs of the agent's text, cited topics); the pages each size must come to.
SIZES = {"1p": (3, ()), "3p": (8, ("pas", "koerekort-fornyelse", "flytning"))}
PAGES = {"1p": 1, "3p": 3}
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Agent:
    """One client's agent: its API token and its open call."""

    token: str
    call_id: int

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header of the agent's API token."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Rule:
    """A cited rule as the floor shows it: title, Markdown sections, fields."""

    title: str
    sections_md: tuple[str, ...]
    fields: dict


def build_database(url: str, agents: int) -> list[Agent]:
    """Migrate and seed: Aarhus participating, the shipped rules, agents with an active call."""
    upgrade_database(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        load_municipalities(session=session)
        session.execute(
            update(Municipality)
            .where(Municipality.code == CODE)
            .values(participating=True, dialled_number=demo_dialled_number(CODE))
        )
        import_rules(session=session, directory=PROJECT_ROOT / "kb_rules")
        seeded = []
        for n in range(agents):
            user = create_user(
                session=session,
                username=f"bench-letters-{n:02d}",
                full_name=AUTHOR,
                password="bench-password-123456",
                role=Role.AGENT,
            )
            token = issue_api_token(session=session, user=user, name="bench")
            call = Call(
                reference=f"HL-2026-{900_000 + n:06d}",
                municipality_code=CODE,
                line_municipality_code=CODE,
                agent_id=user.id,
                state=CallState.ACTIVE,
            )
            session.add(call)
            session.flush()
            seeded.append(Agent(token, call.id))
        session.commit()
    engine.dispose()
    return seeded


def cited_rules(url: str, size: str) -> list[Rule]:
    """The rules a letter of this size cites, resolved for Aarhus today (the floor's copy)."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rules = []
        for slug in SIZES[size][1]:
            resolved = resolve_rule(session=session, topic_slug=slug, municipality_code=CODE)
            sections = tuple(section.body_md for section in resolved.sections)
            fields = {field.key: field.value for field in resolved.fields}
            rules.append(Rule(resolved.title, sections, fields))
    engine.dispose()
    return rules


def paragraphs(size: str, number: int) -> list[str]:
    """The agent's text of letter `number` of this size, paragraph by paragraph."""
    count = SIZES[size][0]
    return [f"Sag {number}, afsnit {n + 1}: " + SENTENCE * 6 for n in range(count)]


def next_number() -> int:
    """A number no other letter of this run has."""
    return next(_numbers)


def reply_json(size: str, number: int | None = None, body_md: str | None = None) -> dict:
    """The JSON body of POST /api/calls/{id}/replies: a PDF letter, no e-mail to send."""
    number = next_number() if number is None else number
    return {
        "channel": "pdf",
        "recipient_name": RECIPIENT_NAME,
        "recipient_address": RECIPIENT_ADDRESS,
        "subject": SUBJECT,
        "body_md": "\n\n".join(paragraphs(size, number)) if body_md is None else body_md,
        "topics": list(SIZES[size][1]),
    }
