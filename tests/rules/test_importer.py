"""Importing kb_rules files: validated first, all or nothing, idempotent, versioned."""

from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from hotline.rules.importer import RuleImportError, import_rules
from hotline.rules.models import Rule, RuleVersion
from tests.rules.conftest import write_rule


def _counts(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Rule)),
        session.scalar(select(func.count()).select_from(RuleVersion)),
    )


def test_good_import_stores_national_and_local_versions(session, kb, imported):
    write_rule(kb, "national/pas.md", "Pas tekst.", notes="Indekseres.", fields={"fee_dkk": 891})
    write_rule(kb, "local/0751/pas.md", "Aarhus tekst.", mode="replace", fields={"fee_dkk": 1})
    write_rule(kb, "local/0751/storskrald.md", mode="local_only", title="Storskrald", category="A")

    summary = imported()

    assert str(summary) == "1 national, 2 local; 3 new versions"
    national = session.scalar(select(Rule).where(Rule.municipality_code.is_(None)))
    version = national.versions[0]
    assert (version.body_md, version.agent_notes_md) == ("Pas tekst.", "Indekseres.")
    assert version.fields == {"fee_dkk": 891}
    assert version.sources == [{"url": "https://www.borger.dk/", "verified": "2026-01-05"}]
    assert version.author_name == "kb_rules/national/pas.md"
    assert version.source_path == "national/pas.md"
    local = session.scalar(
        select(Rule).where(Rule.municipality_code == "0751", Rule.topic_slug == "pas")
    )
    assert local.versions[0].based_on_national_version == 1
    assert local.versions[0].mode == "replace"


def test_import_twice_adds_nothing(session, kb, imported):
    write_rule(kb, "national/pas.md")
    write_rule(kb, "local/0751/pas.md", mode="append")
    imported()

    summary = imported()

    assert summary.new_versions == 0
    assert _counts(session) == (2, 2)


def test_changed_file_adds_a_version_and_keeps_the_old(session, kb, imported):
    write_rule(kb, "national/pas.md", "Gammel tekst.")
    write_rule(kb, "local/0751/pas.md", mode="append")
    imported()
    write_rule(kb, "national/pas.md", "Ny tekst.")

    summary = imported()

    assert summary.new_versions == 1
    national = session.scalar(select(Rule).where(Rule.municipality_code.is_(None)))
    session.refresh(national)
    assert national.current_version == 2
    assert [v.body_md for v in national.versions] == ["Gammel tekst.", "Ny tekst."]
    # The unchanged local file keeps its base: it is now behind the national rule.
    local = session.scalar(select(Rule).where(Rule.municipality_code == "0751"))
    assert [v.based_on_national_version for v in local.versions] == [1]


@pytest.mark.parametrize(
    ("relative", "content", "expected"),
    [
        (
            "national/pas.md",
            "---\ntopic: pas\ntitle: [unclosed\n---\nTekst\n",
            "front matter: invalid YAML",
        ),
        ("national/pas.md", "---\ntopic: pas\ntitle: Pas\ncategory: A\n---\nTekst\n", "valid_from"),
        ("national/pas.md", "Ingen front matter\n", "front matter: missing"),
    ],
)
def test_broken_file_is_reported_and_nothing_imported(session, kb, relative, content, expected):
    write_rule(kb, "national/flytning.md")
    (kb / relative).write_text(content, encoding="utf-8")

    with pytest.raises(RuleImportError) as error:
        import_rules(session=session, directory=kb)

    assert any(p.startswith(f"{relative}: ") and expected in p for p in error.value.problems)
    session.rollback()
    assert _counts(session) == (0, 0)


def test_every_problem_is_reported_with_path_and_field(session, kb):
    write_rule(kb, "national/pas.md", fields={"fee_dkk": "gratis"})
    write_rule(kb, "national/flytning.md", sources=[])
    write_rule(kb, "local/9999/pas.md", mode="replace")
    write_rule(kb, "local/0751/sundhedskort.md", mode="replace")
    write_rule(kb, "local/0751/pas.md")
    write_rule(kb, "local/0851/flytning.md", mode="local_only", title="X", category="Y")

    with pytest.raises(RuleImportError) as error:
        import_rules(session=session, directory=kb)

    problems = "\n".join(error.value.problems)
    assert "national/pas.md: fields.fee_dkk: " in problems
    assert "national/flytning.md: sources: " in problems
    assert "local/9999/pas.md: municipality: unknown municipality code '9999'" in problems
    assert "local/0751/sundhedskort.md: topic: mode replace needs a national rule" in problems
    assert "local/0751/pas.md: mode: required" in problems
    assert "local/0851/flytning.md: mode: local_only, but a national rule" in problems
    session.rollback()
    assert _counts(session) == (0, 0)


def test_local_rule_may_build_on_a_national_rule_already_in_the_database(session, kb, imported):
    write_rule(kb, "national/pas.md")
    imported()
    (kb / "national" / "pas.md").unlink()
    write_rule(kb, "local/0751/pas.md", mode="not_offered")

    assert imported().new_versions == 1


def test_national_file_for_a_topic_with_a_local_only_rule_in_the_database_is_refused(
    session, kb, imported, make_user
):
    from hotline.auth.models import Role
    from hotline.rules.schemas import LocalRuleIn
    from hotline.rules.service import save_local_rule

    write_rule(kb, "national/pas.md")
    imported()
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    data = LocalRuleIn(mode="local_only", title="Cykelparkering", category="Trafik", body_md="X")
    save_local_rule(
        session=session,
        user=admin,
        municipality_code="0751",
        topic_slug="cykelparkering",
        expected_version=0,
        data=data,
    )
    session.commit()
    before = _counts(session)
    write_rule(kb, "national/cykelparkering.md")

    with pytest.raises(RuleImportError) as error:
        import_rules(session=session, directory=kb)

    assert error.value.problems == [
        "national/cykelparkering.md: topic: a municipality has a local-only rule "
        "'cykelparkering' in the database (0751)"
    ]
    session.rollback()
    assert _counts(session) == before


def test_local_only_rule_in_the_database_is_fine_while_its_own_file_replaces_it(
    session, kb, imported
):
    write_rule(kb, "local/0751/cykel.md", mode="local_only", title="Cykel", category="Trafik")
    imported()
    write_rule(kb, "national/cykel.md")
    write_rule(kb, "local/0751/cykel.md", mode="append")

    assert imported().new_versions == 2


def test_cli_import_prints_summary_and_fails_with_problems(session, kb, settings, monkeypatch):
    from hotline.cli import main

    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    write_rule(kb, "national/pas.md", valid_from=date(2026, 1, 1))
    runner = CliRunner()

    result = runner.invoke(main, ["rules", "import", str(kb)])
    assert result.exit_code == 0, result.output
    assert "1 national, 0 local; 1 new versions" in result.output
    assert _counts(session) == (1, 1)

    write_rule(kb, "local/0751/pas.md", mode="bogus")
    result = runner.invoke(main, ["rules", "import", str(kb)])
    assert result.exit_code == 1
    assert "local/0751/pas.md: mode: " in result.output
