"""Rule flags: agents flag a resolved rule, the municipality's admins see and close the flags."""

import pytest
from sqlalchemy import select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.db import make_sessionmaker
from hotline.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.municipalities.models import Municipality
from hotline.rules.flags import close_flag, flag_rule, list_flags, open_flag_counts
from hotline.rules.models import FlagKind, RuleFlag
from hotline.rules.service import get_rule
from tests.rules.conftest import write_rule

AARHUS, AALBORG = "0751", "0851"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def rules(session, kb, imported):
    """A national passport rule, replaced locally in Aarhus; Aarhus and Aalborg participate."""
    write_rule(kb, "national/pas.md", "National pastekst.", title="Pas")
    write_rule(kb, "local/0751/pas.md", "Pas fornyes på Dokk1.", mode="replace")
    imported()
    for code in (AARHUS, AALBORG):
        session.get(Municipality, code).participating = True
    session.commit()


@pytest.fixture
def people(make_user):
    """An agent, the admins of Aarhus and of Aalborg, and a system admin."""
    return {
        "agent": make_user(Role.AGENT, username="karen", full_name="Karen Ærbødig"),
        "aarhus": make_user(Role.MUNICIPALITY_ADMIN, AARHUS, username="aarhus", full_name="Åse"),
        "aalborg": make_user(Role.MUNICIPALITY_ADMIN, AALBORG, username="aalborg"),
        "sys": make_user(Role.SYSTEM_ADMIN, username="sys"),
    }


def _flag(session, user, code=AARHUS, comment="Gebyret er forkert.", kind="wrong"):
    flag = flag_rule(
        session=session,
        user=user,
        municipality_code=code,
        topic_slug="pas",
        kind=kind,
        comment=comment,
    )
    session.commit()
    return flag


def _audit(session, action):
    return session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


# --- the service ---


def test_agent_flags_the_version_they_read_and_it_is_audited(session, rules, people):
    aarhus = _flag(session, people["agent"], comment="  Uklart hvor man møder op.  ")
    aalborg = _flag(session, people["agent"], code=AALBORG, kind="unclear")

    local = get_rule(session=session, topic_slug="pas", municipality_code=AARHUS)
    national = get_rule(session=session, topic_slug="pas", municipality_code=None)
    assert aarhus.rule_version_id == local.versions[-1].id
    assert aalborg.rule_version_id == national.versions[-1].id
    assert aarhus.comment == "Uklart hvor man møder op."
    assert aarhus.kind == FlagKind.WRONG and aarhus.closed_at is None
    assert aarhus.created_by_name == "Karen Ærbødig"
    [entry, _] = _audit(session, "rule_flag.create")
    assert entry.actor_name == "karen" and entry.municipality_code == AARHUS
    assert entry.before is None and entry.after["comment"] == "Uklart hvor man møder op."


@pytest.mark.parametrize(
    ("comment", "kind", "key"),
    [
        ("", "wrong", "rule_flags.comment_required"),
        ("   \n ", "unclear", "rule_flags.comment_required"),
        ("x" * 2001, "wrong", "rule_flags.comment_too_long"),
        ("Forkert.", "meh", "rule_flags.invalid_kind"),
    ],
)
def test_flag_input_is_checked(session, rules, people, comment, kind, key):
    with pytest.raises(InvalidInput) as raised:
        _flag(session, people["agent"], comment=comment, kind=kind)
    assert raised.value.key == key
    session.rollback()
    assert session.scalars(select(RuleFlag)).all() == []


def test_a_comment_of_2000_characters_after_trimming_is_accepted(session, rules, people):
    assert len(_flag(session, people["agent"], comment=" " + "ø" * 2000 + " ").comment) == 2000


def test_the_topic_must_resolve_for_a_participating_municipality(session, rules, people):
    with pytest.raises(NotFound):
        flag_rule(
            session=session,
            user=people["agent"],
            municipality_code=AARHUS,
            topic_slug="findes-ikke",
            kind="wrong",
            comment="?",
        )
    with pytest.raises(InvalidInput) as raised:
        _flag(session, people["agent"], code="0101")
    assert raised.value.key == "rule_flags.not_participating"


def test_municipality_admins_do_not_flag(session, rules, people):
    with pytest.raises(PermissionDenied):
        _flag(session, people["aarhus"])
    assert _flag(session, people["sys"]).created_by_name == "Test Bruger"


def test_lists_are_scoped_to_the_admins_municipalities(session, rules, people):
    aarhus = _flag(session, people["agent"])
    aalborg = _flag(session, people["agent"], code=AALBORG)

    def ids(user, code):
        return [f.id for f in list_flags(session=session, user=user, municipality_code=code)]

    assert ids(people["aarhus"], AARHUS) == [aarhus.id]
    assert ids(people["aarhus"], None) == [aarhus.id]
    assert ids(people["aalborg"], None) == [aalborg.id]
    assert sorted(ids(people["sys"], None)) == sorted([aarhus.id, aalborg.id])
    for user, code in ((people["aalborg"], AARHUS), (people["agent"], AARHUS)):
        with pytest.raises(PermissionDenied):
            ids(user, code)
    with pytest.raises(PermissionDenied):
        ids(people["agent"], None)
    counts = open_flag_counts(session=session, user=people["aarhus"], municipality_code=AARHUS)
    assert counts == {"pas": 1}


def test_aarhus_admin_closes_once_and_it_is_audited(session, rules, people):
    flag = _flag(session, people["agent"])
    with pytest.raises(PermissionDenied):
        close_flag(session=session, user=people["aalborg"], flag_id=flag.id, resolution="Nej.")
    with pytest.raises(InvalidInput) as raised:
        close_flag(session=session, user=people["aarhus"], flag_id=flag.id, resolution=" ")
    assert raised.value.key == "rule_flags.resolution_required"

    close_flag(session=session, user=people["aarhus"], flag_id=flag.id, resolution=" Rettet. ")
    session.commit()
    assert flag.closed_at is not None and flag.closed_by_name == "Åse"
    assert flag.resolution == "Rettet."
    [entry] = _audit(session, "rule_flag.close")
    assert entry.actor_name == "aarhus"
    assert entry.before["closed_at"] is None and entry.before["resolution"] == ""
    assert entry.after["closed_by"] == "Åse" and entry.after["resolution"] == "Rettet."
    assert open_flag_counts(session=session, user=people["aarhus"], municipality_code=AARHUS) == {}
    closed = list_flags(
        session=session, user=people["aarhus"], municipality_code=AARHUS, open_only=False
    )
    assert [f.id for f in closed] == [flag.id]

    with pytest.raises(Conflict) as raised:
        close_flag(session=session, user=people["sys"], flag_id=flag.id, resolution="Igen.")
    assert raised.value.key == "rule_flags.already_closed"
    assert raised.value.params == {"name": "Åse"}


def test_of_two_admins_closing_at_once_one_gets_a_conflict(session, engine, rules, people):
    flag = _flag(session, people["agent"])
    session.commit()  # the flag stays loaded (open) in this session, with no transaction open
    with make_sessionmaker(engine)() as other:
        close_flag(session=other, user=people["sys"], flag_id=flag.id, resolution="Rettet.")
        other.commit()
    with pytest.raises(Conflict):
        close_flag(session=session, user=people["aarhus"], flag_id=flag.id, resolution="Også.")
    session.rollback()
    assert len(_audit(session, "rule_flag.close")) == 1


# --- the JSON API ---


def test_api_flag_list_and_close(api_client, session, rules, people):
    agent, aarhus = api_client(people["agent"]), api_client(people["aarhus"])
    aalborg = api_client(people["aalborg"])
    body = {"municipality_code": AARHUS, "topic_slug": "pas", "kind": "unclear", "comment": "Hvad?"}

    created = agent.post("/api/rules/flags", json=body)
    assert created.status_code == 201, created.text
    flag = created.json()
    assert flag["state"] == "open" and flag["created_by"] == "Karen Ærbødig"

    empty = agent.post("/api/rules/flags", json={**body, "comment": "  "})
    assert empty.status_code == 422
    assert empty.json()["error"] == "rule_flags.comment_required"
    assert "kommentar" in empty.json()["detail"]
    assert agent.post("/api/rules/flags", json={**body, "kind": "meh"}).status_code == 422
    assert aarhus.post("/api/rules/flags", json=body).status_code == 403

    listed = aarhus.get("/api/rules/flags", params={"municipality": AARHUS, "state": "open"})
    assert [f["id"] for f in listed.json()] == [flag["id"]]
    refused = aalborg.get("/api/rules/flags", params={"municipality": AARHUS})
    assert refused.status_code == 403
    assert aalborg.get("/api/rules/flags").json() == []
    assert agent.get("/api/rules/flags", params={"municipality": AARHUS}).status_code == 403

    url = f"/api/rules/flags/{flag['id']}/close"
    assert aalborg.post(url, json={"resolution": "Nej."}).status_code == 403
    closed = aarhus.post(url, json={"resolution": "Teksten er rettet."})
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed" and closed.json()["closed_by"] == "Åse"
    again = aarhus.post(url, json={"resolution": "Igen."})
    assert again.status_code == 409 and again.json()["error"] == "rule_flags.already_closed"
    assert aarhus.post("/api/rules/flags/999999/close", json={"resolution": "x"}).status_code == 404

    closed_list = aarhus.get("/api/rules/flags", params={"municipality": AARHUS, "state": "closed"})
    assert [f["resolution"] for f in closed_list.json()] == ["Teksten er rettet."]
    assert aarhus.get("/api/rules/flags", params={"municipality": AARHUS}).json() == []


# --- the HTML views ---


def _console_flag(client, **values):
    data = {"municipality": AARHUS, "kind": "wrong", "comment": "Gebyret er 1.006 kr."} | values
    return client.post("/console/rules/pas/flags", data=data, headers=HTMX)


def test_console_shows_the_flag_form_and_thanks_the_agent(login, session, rules, people):
    client = login(people["agent"])
    detail = client.get("/console/rules/pas", params={"municipality": AARHUS})
    assert "Markér som uklar/forkert" in detail.text
    assert 'for="rule-flag-comment"' in detail.text and 'name="csrf_token"' in detail.text
    assert 'hx-post="/console/rules/pas/flags"' in detail.text

    sent = _console_flag(client)
    assert sent.status_code == 200
    assert "Tak – kommunens administrator får besked" in sent.text
    assert 'id="rule-flag"' in sent.text and "Gebyret er 1.006 kr." in sent.text  # own flags
    assert session.scalars(select(RuleFlag)).one().kind == FlagKind.WRONG


def test_console_flag_errors_come_back_in_the_form(login, session, rules, people):
    client = login(people["agent"])
    empty = _console_flag(client, comment="   ")
    assert empty.status_code == 422  # htmx swaps it (base.html's htmx-config)
    assert "Skriv en kommentar" in empty.text and 'role="alert"' in empty.text
    no_kind = _console_flag(client, kind="", comment="Behold min tekst")
    assert "Vælg, om reglen er uklar eller forkert" in no_kind.text
    assert "Behold min tekst" in no_kind.text
    too_long = client.post(
        "/console/rules/pas/flags",
        data={"municipality": AARHUS, "kind": "wrong", "comment": "x" * 2001},
    )
    assert too_long.status_code == 422 and "højst være 2000 tegn" in too_long.text
    assert session.scalars(select(RuleFlag)).all() == []


def test_municipality_admins_get_no_flag_form(login, rules, people):
    client = login(people["aarhus"])
    detail = client.get("/console/rules/pas", params={"municipality": AARHUS})
    assert detail.status_code == 200 and "rule-flag-comment" not in detail.text
    refused = _console_flag(client)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/plain")


def test_aarhus_admin_sees_counts_lists_and_closes(login, session, rules, people):
    flag = _flag(session, people["agent"], comment="Dokk1 har lukket <b>om aftenen</b>.")
    client = login(people["aarhus"])

    overview = client.get("/admin/rules", params={"municipality": AARHUS})
    assert "1 åben markering" in overview.text
    assert "/admin/rules/flags?municipality=0751&amp;topic=pas" in overview.text

    page = client.get("/admin/rules/flags", params={"municipality": AARHUS})
    assert page.status_code == 200
    assert "Dokk1 har lukket &lt;b&gt;om aftenen&lt;/b&gt;." in page.text
    assert "Karen Ærbødig" in page.text and "Forkert" in page.text
    assert 'href="/admin/rules/0751/pas"' in page.text
    assert f'action="/admin/rules/flags/{flag.id}/close"' in page.text

    empty = client.post(f"/admin/rules/flags/{flag.id}/close", data={"resolution": ""})
    assert empty.status_code == 422 and "Skriv kort" in empty.text
    done = client.post(
        f"/admin/rules/flags/{flag.id}/close",
        data={"resolution": "Åbningstiden er rettet."},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/rules/flags?municipality=0751&closed={flag.id}"
    assert "Markeringen er lukket." in client.get(done.headers["location"]).text
    closed = client.get("/admin/rules/flags", params={"municipality": AARHUS, "state": "closed"})
    assert "Åbningstiden er rettet." in closed.text and "Åse" in closed.text

    again = client.post(f"/admin/rules/flags/{flag.id}/close", data={"resolution": "Igen."})
    assert again.status_code == 409 and "allerede lukket af Åse" in again.text

    # The agent sees what was done about their flag under the rule.
    agent = login(people["agent"])
    detail = agent.get("/console/rules/pas", params={"municipality": AARHUS})
    assert "Åbningstiden er rettet." in detail.text and "Lukket" in detail.text


def test_aalborg_admin_can_neither_see_nor_close_aarhus_flags(login, session, rules, people):
    flag = _flag(session, people["agent"])
    client = login(people["aalborg"])
    assert client.get("/admin/rules/flags", params={"municipality": AARHUS}).status_code == 403
    own = client.get("/admin/rules/flags")
    assert own.status_code == 200 and "Gebyret er forkert." not in own.text
    refused = client.post(f"/admin/rules/flags/{flag.id}/close", data={"resolution": "Nej."})
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(RuleFlag, flag.id).closed_at is None
    assert _audit(session, "rule_flag.close") == []
