"""Fixtures of the letters tests: rules imported from files, a call, a reply form, the outbox."""

import itertools
import textwrap
from pathlib import Path

import pytest

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState
from hotline.config import Settings
from hotline.letters.letterheads import load_letterhead
from hotline.letters.models import Channel
from hotline.letters.service import ReplyIn
from hotline.municipalities.models import Municipality

_references = itertools.count(1)
RULE_FILES = {
    "national/pas.md": """\
        ---
        topic: pas
        title: Pas – fornyelse
        category: Pas og kørekort
        fields:
          fee_dkk: 891
          deadline: Ca. 3 uger
          self_service_url: https://www.borger.dk/pas
          legal_basis: Pasbekendtgørelsen § 4
        sources:
          - url: https://www.borger.dk/pas
            verified: 2026-11-01
        valid_from: 2020-01-01
        ---
        Du fornyer dit pas ved personligt fremmøde i Borgerservice.
        """,
    "national/storskrald.md": """\
        ---
        topic: storskrald
        title: Storskrald
        category: Affald
        fields:
          legal_basis: Affaldsbekendtgørelsen
        sources:
          - url: https://www.borger.dk/affald
            verified: 2026-11-01
        valid_from: 2020-01-01
        ---
        Storskrald hentes efter aftale.
        """,
    "local/0751/pas.md": """\
        ---
        topic: pas
        mode: append
        valid_from: 2020-01-01
        ---
        I Aarhus skal du bestille tid på Dokk1.
        """,
    "local/0751/storskrald.md": """\
        ---
        topic: storskrald
        mode: not_offered
        valid_from: 2020-01-01
        ---
        Aarhus henter ikke storskrald; kør selv til genbrugsstationen på Østervej.
        """,
}


@pytest.fixture
def rules(session, tmp_path: Path) -> Path:
    """The pas and storskrald topics, national and local to Aarhus, imported from files."""
    from hotline.rules.importer import import_rules

    directory = tmp_path / "rules"
    for relative, text in RULE_FILES.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    import_rules(session=session, directory=directory)
    session.commit()
    return directory


@pytest.fixture
def agent(make_user):
    """The agent who has the call."""
    return make_user(Role.AGENT, username="karen", full_name="Karen Ærbødig")


@pytest.fixture
def make_call(session):
    """Create an active call of the agent: make_call(agent, "0751")."""

    def factory(agent, municipality_code: str | None = "0751") -> Call:
        call = Call(
            reference=f"HL-2026-{next(_references):06d}",
            municipality_code=municipality_code,
            agent_id=agent.id,
            state=CallState.ACTIVE,
        )
        session.add(call)
        session.commit()
        return call

    return factory


@pytest.fixture
def call(make_call, agent, rules) -> Call:
    """An active Aarhus call of the agent, with the rules imported."""
    return make_call(agent, "0751")


def reply_form(**changes) -> ReplyIn:
    """A filled reply form citing pas; the e-mail channel unless told."""
    values = dict(
        channel=Channel.EMAIL,
        recipient_name="Søren Østergård",
        recipient_address="Åboulevarden 12, 2. th.\n8000 Aarhus C",
        recipient_email="soren@borger.example",
        subject="Svar på din henvendelse til Aarhus Kommune",
        body_md="Kære Søren\n\nTak for din henvendelse om **pas**. Her er reglerne.",
        topics=["pas"],
    )
    values.update(changes)
    return ReplyIn(**values)


@pytest.fixture
def settings_with_mail(database_url, tmp_path):
    """Settings with a given mail URL: settings_with_mail("smtp://127.0.0.1:2525")."""

    def factory(mail_url: str = "") -> Settings:
        return Settings(
            data_dir=tmp_path / "var",
            database_url=database_url,
            mail_url=mail_url,
            secret_key="test-secret",
            outbox_worker=False,
        )

    return factory


LETTERHEAD_TOML = """\
name = "Aarhus Kommune"
sender = ["BORGERSERVICE", "Aarhus Kommune"]
address = ["Rådhuspladsen 2", "8000 Aarhus C"]
primary_color = "{primary}"
accent_color = "#3aa7d9"
"""
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><rect width="9" height="9"/></svg>'
)


@pytest.fixture
def own_letterhead(tmp_path):
    """A letterhead folder of the test's own (toml, logo, style.css); returns it and a loader."""
    folder = tmp_path / "letterheads" / "0751"
    folder.mkdir(parents=True)
    (folder / "letterhead.toml").write_text(LETTERHEAD_TOML.format(primary="#00385f"), "utf-8")
    (folder / "logo.svg").write_text(LOGO, encoding="utf-8")
    (folder / "style.css").write_text(".sender-line-first { letter-spacing: 0.06em; }", "utf-8")
    aarhus = Municipality(code="0751", name="Aarhus Kommune")
    return folder, lambda: load_letterhead(municipality=aarhus, letterheads_dir=folder.parent)
