"""Saving local rules: versions, the lost-update guard, audit, scoping."""

from datetime import date

import pytest
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.kit.errors import Conflict, InvalidInput, PermissionDenied
from hotline.rules.resolve import resolve_rule
from hotline.rules.schemas import LocalRuleIn
from hotline.rules.service import get_rule_history, save_local_rule
from tests.rules.conftest import write_rule


@pytest.fixture
def national_pas(kb, imported):
    write_rule(kb, "national/pas.md", "National.", fields={"fee_dkk": 891})
    imported()


def _save(
    session, user, expected, body="Lokal tekst.", code="0751", mode="replace", topic="pas", **extra
):
    data = LocalRuleIn(mode=mode, body_md=body, valid_from=date(2026, 1, 1), **extra)
    return save_local_rule(
        session=session,
        user=user,
        municipality_code=code,
        topic_slug=topic,
        expected_version=expected,
        data=data,
    )


def test_save_creates_then_versions_the_local_rule(session, make_user, national_pas):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751", full_name="Sofie Jensen")

    first = _save(session, admin, 0, fields={"fee_dkk": 1006})
    second = _save(session, admin, 1, body="Rettet tekst.")
    session.commit()

    assert (first.version, second.version) == (1, 2)
    assert second.author_name == "Sofie Jensen" and second.author_id == admin.id
    assert second.based_on_national_version == 1
    history = get_rule_history(session=session, topic_slug="pas", municipality_code="0751")
    assert [(v.version, v.body_md) for v in history] == [(2, "Rettet tekst."), (1, "Lokal tekst.")]
    rule = resolve_rule(
        session=session, topic_slug="pas", municipality_code="0751", on=date(2026, 6, 1)
    )
    assert rule.sections[0].body_md == "Rettet tekst." and rule.local.version == 2


def test_stale_edit_is_a_conflict_not_an_overwrite(session, make_user, national_pas):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    _save(session, admin, 0)
    _save(session, admin, 1, body="Kollegaens tekst.")

    with pytest.raises(Conflict) as error:
        _save(session, admin, 1, body="Min forældede tekst.")
    with pytest.raises(Conflict):
        _save(session, admin, 0, body="Ny regel igen.")

    assert error.value.params == {"version": 2}
    history = get_rule_history(session=session, topic_slug="pas", municipality_code="0751")
    assert [v.body_md for v in history] == ["Kollegaens tekst.", "Lokal tekst."]


def test_concurrent_saves_of_the_same_version_cannot_both_win(
    engine, session, make_user, national_pas
):
    from hotline.db import make_sessionmaker

    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    _save(session, admin, 0)
    session.commit()
    sessionmaker = make_sessionmaker(engine)
    with sessionmaker() as first, sessionmaker() as second:
        first_admin, second_admin = first.merge(admin), second.merge(admin)
        # Both read version 1 before either writes.
        assert get_rule_history(session=first, topic_slug="pas", municipality_code="0751")
        assert get_rule_history(session=second, topic_slug="pas", municipality_code="0751")
        _save(first, first_admin, 1, body="Først.")
        first.commit()
        with pytest.raises(Conflict):
            _save(second, second_admin, 1, body="Anden.")
    session.expire_all()
    history = get_rule_history(session=session, topic_slug="pas", municipality_code="0751")
    assert [v.body_md for v in history] == ["Først.", "Lokal tekst."]


def test_save_writes_an_audit_entry_with_before_and_after(session, make_user, national_pas):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    _save(session, admin, 0, body="Før.")
    _save(session, admin, 1, body="Efter.")
    session.commit()

    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()

    assert [(e.action, e.entity_id, e.municipality_code) for e in entries] == [
        ("rule.save", "0751/pas", "0751"),
        ("rule.save", "0751/pas", "0751"),
    ]
    assert entries[0].before is None and entries[0].after["body_md"] == "Før."
    assert entries[1].before["body_md"] == "Før." and entries[1].after["body_md"] == "Efter."
    assert entries[1].actor_id == admin.id


@pytest.mark.parametrize(
    ("role", "codes"),
    [(Role.MUNICIPALITY_ADMIN, ("0851",)), (Role.AGENT, ()), (Role.SUPERVISOR, ())],
)
def test_only_admins_of_the_municipality_may_save(session, make_user, national_pas, role, codes):
    user = make_user(role, *codes)
    with pytest.raises(PermissionDenied):
        _save(session, user, 0)
    assert get_rule_history(session=session, topic_slug="pas", municipality_code="0751") == []


def test_system_admin_may_save_for_any_municipality(session, make_user, national_pas):
    assert _save(session, make_user(Role.SYSTEM_ADMIN), 0, code="0461").version == 1


def test_mode_must_fit_the_national_rule(session, make_user, national_pas):
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    with pytest.raises(InvalidInput):
        _save(session, admin, 0, mode="local_only", title="Pas", category="X")


def test_a_concurrent_create_is_a_conflict_and_keeps_the_rest_of_the_transaction(
    engine, session, make_user, national_pas, kb, imported, monkeypatch
):
    from hotline.db import make_sessionmaker
    from hotline.rules import service
    from hotline.rules.models import Rule

    write_rule(kb, "national/flytning.md")
    imported()
    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    # A colleague creates the local rule after this request read that there was none.
    with make_sessionmaker(engine)() as colleague:
        colleague.add(Rule(topic_slug="pas", municipality_code="0751", current_version=0))
        colleague.commit()
    earlier = _save(session, admin, 0, topic="flytning", body="Gemt før konflikten.")
    real_get_rule = service.get_rule

    def read_before_the_colleague_committed(*, session, topic_slug, municipality_code):
        found = real_get_rule(
            session=session, topic_slug=topic_slug, municipality_code=municipality_code
        )
        return None if municipality_code == "0751" else found

    monkeypatch.setattr(service, "get_rule", read_before_the_colleague_committed)

    with pytest.raises(Conflict) as error:
        _save(session, admin, 0, body="Min tekst.")
    monkeypatch.undo()
    session.commit()

    assert error.value.params == {"version": 1}
    session.expire_all()
    history = get_rule_history(session=session, topic_slug="flytning", municipality_code="0751")
    assert [v.id for v in history] == [earlier.id]
    assert get_rule_history(session=session, topic_slug="pas", municipality_code="0751") == []


def test_rolling_back_the_request_also_removes_a_newly_created_local_rule(
    engine, session, make_user, national_pas
):
    from hotline.db import make_sessionmaker
    from hotline.rules.models import Rule

    admin = make_user(Role.MUNICIPALITY_ADMIN, "0751")
    _save(session, admin, 0)

    session.rollback()

    with make_sessionmaker(engine)() as fresh:
        local = fresh.scalars(select(Rule).where(Rule.municipality_code == "0751")).all()
        assert local == []
