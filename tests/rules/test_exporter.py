"""Exporting the local rules back to kb_rules files: a round trip changes nothing."""

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from hotline.auth.models import Role
from hotline.config import PROJECT_ROOT
from hotline.rules.exporter import RuleExportError, export_local_rules
from hotline.rules.files import parse_rule_file
from hotline.rules.importer import import_rules
from hotline.rules.models import RuleVersion
from hotline.rules.schemas import LocalRuleIn
from hotline.rules.service import save_local_rule
from tests.rules.conftest import write_rule

KB = PROJECT_ROOT / "kb_rules"


def _version_count(session) -> int:
    return session.scalar(select(func.count()).select_from(RuleVersion))


def _parsed(root: Path, relative: str):
    code = relative.split("/")[1] if relative.startswith("local/") else None
    rule, problems = parse_rule_file(root / relative, relative, code)
    assert problems == []
    return rule


def _with_national(export_dir: Path, national_from: Path) -> Path:
    shutil.copytree(national_from / "national", export_dir / "national")
    return export_dir


def test_shipped_kb_round_trip_changes_nothing(session, tmp_path):
    import_rules(session=session, directory=KB)
    session.commit()
    before = _version_count(session)
    out = tmp_path / "export"

    summary = export_local_rules(session=session, directory=out)

    originals = sorted(p.relative_to(KB).as_posix() for p in (KB / "local").glob("*/*.md"))
    assert sorted(summary.written) == originals and summary.unchanged == []
    for relative in originals:
        exported, original = _parsed(out, relative), _parsed(KB, relative)
        assert exported.front == original.front, relative
        assert exported.version_payload() == original.version_payload(), relative
    assert not (out / "national").exists()  # only the local rules are exported

    again = import_rules(session=session, directory=_with_national(out, KB))
    assert again.new_versions == 0 and again.local == len(originals)
    assert _version_count(session) == before

    # Exported into (a copy of) kb_rules itself: every file already says the same; none rewritten.
    copy = tmp_path / "kb_copy"
    shutil.copytree(KB, copy)
    into_kb = export_local_rules(session=session, directory=copy)
    assert into_kb.written == [] and sorted(into_kb.unchanged) == originals


def test_export_writes_every_part_of_the_format(session, kb, imported, tmp_path):
    write_rule(kb, "national/pas.md", "National.")
    write_rule(
        kb,
        "local/0751/pas.md",
        "## Sådan\n\nLokal *tekst* med: kolon, «citater» og 'apostrof'.",
        notes="- Note 1\n- Note 2",
        mode="append",
        title="Pas: Aarhus",
        tags=["pas", "drop-in, lørdag"],
        fields={"fee_dkk": 0, "phone": "89 40 00 00", "self_service_url": "https://aarhus.dk/"},
        sources=[{"url": "https://aarhus.dk/pas", "verified": date(2026, 3, 1)}],
        valid_from=date(2026, 2, 1),
        valid_to=date(2027, 1, 1),
    )
    imported()
    out = tmp_path / "out"

    summary = export_local_rules(session=session, directory=out)

    assert summary.written == ["local/0751/pas.md"]
    text = (out / "local/0751/pas.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntopic: pas\nmode: append\n")
    assert "verified: 2026-03-01\n" in text and "valid_to: 2027-01-01\n" in text
    assert "\n## Noter til medarbejderen\n\n- Note 1\n- Note 2\n" in text
    original = _parsed(kb, "local/0751/pas.md")
    assert _parsed(out, "local/0751/pas.md").version_payload() == original.version_payload()
    assert import_rules(session=session, directory=_with_national(out, kb)).new_versions == 0


def test_admin_edited_local_rule_exports_with_its_edit(session, kb, imported, tmp_path, make_user):
    write_rule(kb, "national/pas.md", "National.")
    write_rule(kb, "local/0751/pas.md", "Fra filen.", mode="replace")
    imported()
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Anne Admin")
    # A browser sends a textarea with CRLF line endings.
    edit = LocalRuleIn(
        mode="append",
        body_md="Redigeret i web.\r\n\r\nAnden linje.",
        agent_notes_md="Admin-note.",
        tags=["pas"],
        fields={"fee_dkk": 1006},
        valid_from=date(2026, 1, 1),
    )
    save_local_rule(
        session=session,
        user=admin,
        municipality_code="0751",
        topic_slug="pas",
        expected_version=1,
        data=edit,
    )
    session.commit()
    out = tmp_path / "out"

    export_local_rules(session=session, directory=out)

    exported = _parsed(out, "local/0751/pas.md")
    assert exported.mode == "append"
    assert exported.body_md == "Redigeret i web.\n\nAnden linje."
    assert exported.agent_notes_md == "Admin-note."
    assert exported.front.fields.fee_dkk == 1006
    # Re-importing the export adds nothing: the file says what the admin's version says.
    before = _version_count(session)
    assert import_rules(session=session, directory=_with_national(out, kb)).new_versions == 0
    assert _version_count(session) == before


def test_existing_files_are_kept_when_equal_and_replaced_only_with_overwrite(session, kb, imported):
    write_rule(kb, "national/pas.md")
    write_rule(kb, "national/flytning.md")
    write_rule(kb, "local/0751/pas.md", "Aarhus.", mode="replace")
    write_rule(kb, "local/0851/flytning.md", "Aalborg.", mode="append")
    imported()
    original_bytes = (kb / "local/0751/pas.md").read_bytes()
    write_rule(kb, "local/0851/flytning.md", "Ændret i filen, ikke importeret.", mode="append")
    changed_bytes = (kb / "local/0851/flytning.md").read_bytes()

    with pytest.raises(RuleExportError) as error:
        export_local_rules(session=session, directory=kb)

    assert error.value.problems == [
        "local/0851/flytning.md: file: exists and differs from the database "
        "(use --overwrite to replace it)"
    ]
    assert (kb / "local/0851/flytning.md").read_bytes() == changed_bytes  # nothing written

    summary = export_local_rules(session=session, directory=kb, overwrite=True)

    assert summary.written == ["local/0851/flytning.md"]
    assert summary.unchanged == ["local/0751/pas.md"]
    assert (kb / "local/0751/pas.md").read_bytes() == original_bytes  # layout kept
    assert _parsed(kb, "local/0851/flytning.md").body_md == "Aalborg."


def test_text_that_would_not_read_back_is_reported_and_nothing_written(
    session, kb, imported, tmp_path, make_user
):
    write_rule(kb, "national/pas.md")
    write_rule(kb, "national/flytning.md")
    write_rule(kb, "local/0751/flytning.md", "Fint.", mode="append")
    imported()
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    body = "Før.\n\n## Noter til medarbejderen\n\nSkrevet i borgerteksten."
    save_local_rule(
        session=session,
        user=admin,
        municipality_code="0751",
        topic_slug="pas",
        expected_version=0,
        data=LocalRuleIn(mode="replace", body_md=body, valid_from=date(2026, 1, 1)),
    )
    session.commit()
    out = tmp_path / "out"

    with pytest.raises(RuleExportError) as error:
        export_local_rules(session=session, directory=out)

    assert len(error.value.problems) == 1
    assert error.value.problems[0].startswith(
        "local/0751/pas.md: body: contains the heading '## Noter til medarbejderen'"
    )
    assert not out.exists()


def test_cli_export_requires_a_directory_and_prints_what_it_wrote(
    session, kb, imported, settings, monkeypatch, tmp_path
):
    from hotline.cli import main

    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    write_rule(kb, "national/pas.md")
    write_rule(kb, "local/0751/pas.md", "Aarhus.", mode="replace")
    imported()
    runner = CliRunner()

    missing = runner.invoke(main, ["rules", "export"])
    assert missing.exit_code == 2 and "DIRECTORY" in missing.output

    out = tmp_path / "out"
    result = runner.invoke(main, ["rules", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote local/0751/pas.md" in result.output
    assert "1 local rules: 1 written, 0 unchanged" in result.output

    (out / "local/0751/pas.md").write_text("ødelagt", encoding="utf-8")
    refused = runner.invoke(main, ["rules", "export", str(out)])
    assert refused.exit_code == 1
    assert "local/0751/pas.md: file: exists and differs" in refused.output
    assert "Nothing was written." in refused.output

    forced = runner.invoke(main, ["rules", "export", str(out), "--overwrite"])
    assert forced.exit_code == 0 and "wrote local/0751/pas.md" in forced.output
