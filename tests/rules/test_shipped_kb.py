"""The shipped kb_rules: imports cleanly, and every topic resolves for the demo municipalities."""

from hotline.config import PROJECT_ROOT
from hotline.rules.importer import import_rules
from hotline.rules.resolve import list_resolved_topics, resolve_rule

KB = PROJECT_ROOT / "kb_rules"


def test_shipped_rules_import_and_resolve_for_aarhus_aalborg_odense(session):
    summary = import_rules(session=session, directory=KB)
    assert summary.national >= 12 and summary.local >= 6
    assert import_rules(session=session, directory=KB).new_versions == 0

    modes = set()
    for code in ("0751", "0851", "0461"):
        topics = list_resolved_topics(session=session, municipality_code=code)
        assert len(topics) >= 12
        for topic in topics:
            rule = resolve_rule(session=session, topic_slug=topic.slug, municipality_code=code)
            modes.add(rule.mode)
            assert rule.sections and all(s.body_html for s in rule.sections)
            assert rule.sources or rule.mode == "local_only"
            assert not rule.stale
    assert modes == {"national", "replace", "append", "not_offered", "local_only"}


def test_shipped_local_rules_show_their_overrides(session):
    import_rules(session=session, directory=KB)

    aarhus_pas = resolve_rule(session=session, topic_slug="pas", municipality_code="0751")
    national_pas = resolve_rule(session=session, topic_slug="pas", municipality_code="0101")

    assert aarhus_pas.mode == "replace" and "Dokk1" in aarhus_pas.sections[0].body_md
    assert aarhus_pas.field("fee_dkk") == 1006 and national_pas.field("fee_dkk") == 891
    assert "affald-storskrald" in {
        t.slug for t in list_resolved_topics(session=session, municipality_code="0751")
    }
    assert "affald-storskrald" not in {
        t.slug for t in list_resolved_topics(session=session, municipality_code="0851")
    }
