"""The contact-reason taxonomy: seed, service, JSON API and the supervisors' page."""

import pytest
from sqlalchemy import delete, select

from hotline.audit.models import AuditEntry
from hotline.auth.models import Role
from hotline.calls import reasons
from hotline.calls.models import Call, ContactReason
from hotline.calls.queue import claim_call
from hotline.calls.service import list_contact_reasons, wrap_up_call
from hotline.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied

EXPECTED_SEED = {
    "mitid": "MitID",
    "digital-post": "Digital Post",
    "selvbetjening": "Selvbetjening på borger.dk",
    "pas": "Pas",
    "koerekort": "Kørekort",
    "sundhedskort": "Sundhedskort",
    "flytning": "Flytning",
    "nemkonto": "NemKonto",
    "boligstoette": "Boligstøtte",
    "affald": "Affald og storskrald",
    "parkering": "Parkering",
    "hjemmehjaelp": "Hjemmehjælp og ældre",
    "boernepasning": "Børnepasning",
    "skat": "Skat (henvist til Skattestyrelsen)",
    "andet": "Andet",
}


@pytest.fixture
def supervisor(make_user, aarhus_line):
    """A supervisor, with the standard reasons seeded (by aarhus_line)."""
    return make_user(Role.SUPERVISOR)


def _codes(session) -> list[str]:
    session.expire_all()
    return [r.code for r in reasons.list_reasons(session=session)]


def _audit(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _done_call(session, new_call, make_user, code: str) -> Call:
    """A call an agent wrapped up with this reason."""
    agent = make_user(Role.AGENT)
    _, reference = new_call()
    call_id = session.scalar(select(Call.id).where(Call.reference == reference))
    call = claim_call(session=session, call_id=call_id, agent=agent)
    wrap_up_call(
        session=session, call=call, user=agent, contact_reason_code=code, outcome="answered"
    )
    session.commit()
    return call


# --- the seed ---


def test_seed_has_the_reasons_a_danish_hotline_hears_and_is_idempotent(session, aarhus_line):
    found = {r.code: r.label for r in reasons.list_reasons(session=session)}
    assert len(found) >= 15
    assert EXPECTED_SEED.items() <= found.items()
    assert _codes(session)[-1] == "andet"
    assert reasons.seed_contact_reasons(session=session) == 0


def test_seed_on_an_older_database_adds_the_new_reasons_before_andet(session, aarhus_line):
    session.execute(delete(ContactReason).where(ContactReason.code.in_(["nemkonto", "affald"])))
    session.commit()
    assert reasons.seed_contact_reasons(session=session) == 2
    assert _codes(session)[-1] == "andet" and {"nemkonto", "affald"} <= set(_codes(session))


def test_seed_keeps_supervisors_changes(session, supervisor):
    reasons.rename_reason(session=session, user=supervisor, code="pas", label="Pas og ID-kort")
    reasons.set_reason_active(session=session, user=supervisor, code="mitid", active=False)
    session.execute(delete(ContactReason).where(ContactReason.code == "parkering"))
    reasons.create_reason(session=session, user=supervisor, code="p-skive", label="Parkering ")
    session.commit()
    assert reasons.seed_contact_reasons(session=session) == 0  # "Parkering" is there already
    session.expire_all()
    assert session.get(ContactReason, "pas").label == "Pas og ID-kort"
    assert session.get(ContactReason, "mitid").active is False


# --- the service ---


def test_create_adds_an_active_reason_last_and_audits_it(session, supervisor):
    reason = reasons.create_reason(
        session=session, user=supervisor, code="vielse", label="  Vielse og   navneændring "
    )
    session.commit()
    assert reason.label == "Vielse og navneændring" and reason.active
    assert _codes(session)[-1] == "vielse"
    [entry] = _audit(session, "contact_reason.create")
    assert entry.actor_id == supervisor.id and entry.entity_id == "vielse"
    assert entry.before is None and entry.after["label"] == "Vielse og navneændring"


@pytest.mark.parametrize(
    "code", ["", "Pas", "kørekort", "to ord", "dobbelt--bindestreg", "-start", "slut-", "a" * 51]
)
def test_codes_are_slugs(session, supervisor, code):
    with pytest.raises(InvalidInput) as exc:
        reasons.create_reason(session=session, user=supervisor, code=code, label="Noget nyt")
    assert exc.value.key == "reasons.code_invalid"


@pytest.mark.parametrize("label", ["", "   ", "x" * 201])
def test_labels_are_required_and_bounded(session, supervisor, label):
    with pytest.raises(InvalidInput):
        reasons.create_reason(session=session, user=supervisor, code="nyt", label=label)


def test_codes_are_unique_and_labels_unique_among_active_reasons(session, supervisor):
    with pytest.raises(Conflict) as exc:
        reasons.create_reason(session=session, user=supervisor, code="pas", label="Nyt pas")
    assert exc.value.key == "reasons.code_taken"
    with pytest.raises(Conflict) as exc:
        reasons.create_reason(session=session, user=supervisor, code="mitid-2", label=" mitid ")
    assert exc.value.key == "reasons.label_taken"
    with pytest.raises(Conflict):
        reasons.rename_reason(session=session, user=supervisor, code="pas", label="Kørekort")
    # An inactive reason's label is free, but the inactive one cannot come back while it is taken.
    reasons.set_reason_active(session=session, user=supervisor, code="mitid", active=False)
    reasons.create_reason(session=session, user=supervisor, code="mitid-ny", label="MitID")
    with pytest.raises(Conflict):
        reasons.set_reason_active(session=session, user=supervisor, code="mitid", active=True)


def test_rename_is_audited_and_old_calls_show_the_new_label(
    session, supervisor, new_call, make_user
):
    call = _done_call(session, new_call, make_user, "pas")
    reasons.rename_reason(session=session, user=supervisor, code="pas", label="Pas og ID-kort")
    reasons.rename_reason(session=session, user=supervisor, code="pas", label="Pas og ID-kort")
    session.commit()
    [entry] = _audit(session, "contact_reason.rename")  # the second rename changed nothing
    assert entry.before["label"] == "Pas" and entry.after["label"] == "Pas og ID-kort"
    session.expire_all()
    assert session.get(Call, call.id).contact_reason.label == "Pas og ID-kort"


def test_inactive_reasons_are_not_offered_at_wrap_up_but_stay_on_old_calls(
    session, supervisor, new_call, make_user
):
    old = _done_call(session, new_call, make_user, "skat")
    reasons.set_reason_active(session=session, user=supervisor, code="skat", active=False)
    session.commit()
    assert "skat" not in [r.code for r in list_contact_reasons(session=session)]
    session.expire_all()
    assert session.get(Call, old.id).contact_reason.label == "Skat (henvist til Skattestyrelsen)"
    with pytest.raises(InvalidInput) as exc:
        _done_call(session, new_call, make_user, "skat")
    assert exc.value.key == "calls.reason_required"
    session.rollback()
    [entry] = _audit(session, "contact_reason.deactivate")
    assert entry.before["active"] is True and entry.after["active"] is False

    reasons.set_reason_active(session=session, user=supervisor, code="skat", active=True)
    session.commit()
    assert "skat" in [r.code for r in list_contact_reasons(session=session)]
    assert len(_audit(session, "contact_reason.reactivate")) == 1


def test_the_last_active_reason_stays(session, supervisor):
    *others, last = [r.code for r in list_contact_reasons(session=session)]
    for code in others:
        reasons.set_reason_active(session=session, user=supervisor, code=code, active=False)
    with pytest.raises(Conflict) as exc:
        reasons.set_reason_active(session=session, user=supervisor, code=last, active=False)
    assert exc.value.key == "reasons.last_active"
    with pytest.raises(Conflict):
        reasons.delete_reason(session=session, user=supervisor, code=last)


def test_reorder_needs_every_reason_once_and_is_audited(session, supervisor):
    codes = _codes(session)
    for wrong in (codes[:-1], [*codes, "pas"], [*codes[:-1], "ukendt"]):
        with pytest.raises(InvalidInput):
            reasons.reorder_reasons(session=session, user=supervisor, codes=wrong)
    reasons.reorder_reasons(session=session, user=supervisor, codes=codes[::-1])
    session.commit()
    assert _codes(session) == codes[::-1]
    [entry] = _audit(session, "contact_reason.reorder")
    assert entry.before["order"] == codes and entry.after["order"] == codes[::-1]


def test_move_swaps_with_the_neighbour_and_stops_at_the_ends(session, supervisor):
    codes = _codes(session)
    reasons.move_reason(session=session, user=supervisor, code=codes[1], offset=-1)
    assert _codes(session)[:2] == [codes[1], codes[0]]
    reasons.move_reason(session=session, user=supervisor, code=codes[-1], offset=1)
    session.commit()
    assert _codes(session)[-1] == codes[-1]
    assert len(_audit(session, "contact_reason.reorder")) == 1
    with pytest.raises(NotFound):
        reasons.move_reason(session=session, user=supervisor, code="ukendt", offset=1)


def test_a_reason_in_use_is_never_deleted(session, supervisor, new_call, make_user):
    _done_call(session, new_call, make_user, "pas")
    with pytest.raises(Conflict) as exc:
        reasons.delete_reason(session=session, user=supervisor, code="pas")
    assert exc.value.key == "reasons.in_use" and exc.value.params == {"count": 1}
    reasons.delete_reason(session=session, user=supervisor, code="parkering")
    session.commit()
    assert session.get(ContactReason, "pas") is not None
    assert session.get(ContactReason, "parkering") is None
    [entry] = _audit(session, "contact_reason.delete")
    assert entry.before["code"] == "parkering" and entry.after is None


@pytest.mark.parametrize("role", [Role.AGENT, Role.MUNICIPALITY_ADMIN])
def test_only_supervisors_and_system_admins_change_reasons(session, aarhus_line, make_user, role):
    user = make_user(role, *(["0751"] if role == Role.MUNICIPALITY_ADMIN else []))
    changes = [
        lambda: reasons.create_reason(session=session, user=user, code="nyt", label="Nyt"),
        lambda: reasons.rename_reason(session=session, user=user, code="pas", label="P"),
        lambda: reasons.set_reason_active(session=session, user=user, code="pas", active=False),
        lambda: reasons.reorder_reasons(session=session, user=user, codes=_codes(session)),
        lambda: reasons.move_reason(session=session, user=user, code="pas", offset=1),
        lambda: reasons.delete_reason(session=session, user=user, code="parkering"),
    ]
    for change in changes:
        with pytest.raises(PermissionDenied):
            change()
    assert session.scalar(select(AuditEntry.id)) is None


# --- the JSON API ---


def test_api_lists_active_reasons_to_staff_and_all_on_request(
    session, supervisor, api_client, make_user
):
    reasons.set_reason_active(session=session, user=supervisor, code="skat", active=False)
    session.commit()
    agent = api_client(make_user(Role.AGENT))
    active = agent.get("/api/contact-reasons").json()
    assert "skat" not in [r["code"] for r in active]
    assert active[0] == {"code": "mitid", "label": "MitID", "active": True, "sort_order": 0}
    every = agent.get("/api/contact-reasons", params={"include_inactive": True}).json()
    assert any(r["code"] == "skat" and not r["active"] for r in every)
    admin = api_client(make_user(Role.MUNICIPALITY_ADMIN, "0751"))
    assert admin.get("/api/contact-reasons").status_code == 403
    assert agent.post("/api/contact-reasons", json={"code": "x", "label": "X"}).status_code == 403
    assert agent.patch("/api/contact-reasons/pas", json={"label": "P"}).status_code == 403


def test_api_changes_reasons(session, supervisor, api_client):
    client = api_client(supervisor)
    created = client.post("/api/contact-reasons", json={"code": "vielse", "label": "Vielse"})
    assert created.status_code == 201 and created.json()["active"] is True
    bad = client.post("/api/contact-reasons", json={"code": "Vielse!", "label": "Vielse 2"})
    assert bad.status_code == 422 and bad.json()["error"] == "reasons.code_invalid"
    taken = client.post("/api/contact-reasons", json={"code": "vielse", "label": "Andet navn"})
    assert taken.status_code == 409 and "allerede" in taken.json()["detail"]

    patched = client.patch("/api/contact-reasons/vielse", json={"label": "Vielse", "active": False})
    assert patched.status_code == 200 and patched.json()["active"] is False
    renamed = client.patch("/api/contact-reasons/vielse", json={"label": "Vielse og navne"})
    assert renamed.json()["label"] == "Vielse og navne"
    assert client.patch("/api/contact-reasons/ukendt", json={"active": True}).status_code == 404

    codes = [r["code"] for r in client.get("/api/contact-reasons?include_inactive=1").json()]
    ordered = client.put("/api/contact-reasons/order", json={"codes": codes[::-1]})
    assert ordered.status_code == 200 and [r["code"] for r in ordered.json()] == codes[::-1]
    assert client.put("/api/contact-reasons/order", json={"codes": codes[1:]}).status_code == 422

    assert client.delete("/api/contact-reasons/vielse").status_code == 204
    assert client.delete("/api/contact-reasons/vielse").status_code == 404
    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == [
        "contact_reason.create",
        "contact_reason.deactivate",
        "contact_reason.rename",
        "contact_reason.reorder",
        "contact_reason.delete",
    ]


def test_api_refuses_to_delete_a_reason_in_use(
    supervisor, api_client, session, new_call, make_user
):
    _done_call(session, new_call, make_user, "pas")
    response = api_client(supervisor).delete("/api/contact-reasons/pas")
    assert response.status_code == 409 and response.json()["error"] == "reasons.in_use"


# --- the supervisors' page ---


def test_the_page_lists_reasons_with_their_use(session, supervisor, login, new_call, make_user):
    _done_call(session, new_call, make_user, "pas")
    client = login(supervisor)
    assert 'href="/supervisor/contact-reasons"' in client.get("/supervisor").text
    page = client.get("/supervisor/contact-reasons")
    assert page.status_code == 200
    assert "Henvendelsesårsager" in page.text and "Skat (henvist til Skattestyrelsen)" in page.text
    row = page.text[page.text.index('id="reason-pas"') :]
    row = row[: row.index("</tr>")]
    assert "/supervisor/contact-reasons/pas/delete" not in row  # used: deactivate only
    assert "Deaktivér" in row
    assert "/supervisor/contact-reasons/parkering/delete" in page.text
    assert "<script>" not in page.text and "style=" not in page.text


def test_the_page_changes_reasons(session, supervisor, login):
    client = login(supervisor)
    created = client.post(
        "/supervisor/contact-reasons",
        data={"code": "vielse", "label": "Vielse"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/supervisor/contact-reasons?done=created#reason-vielse"
    assert "Årsagen er oprettet." in client.get(created.headers["location"]).text
    taken = client.post("/supervisor/contact-reasons", data={"code": "ny", "label": "vielse"})
    assert taken.status_code == 409 and "Der er allerede en aktiv årsag" in taken.text
    assert 'value="ny"' in taken.text  # the form keeps what was typed

    base = "/supervisor/contact-reasons/vielse"
    assert client.post(f"{base}/rename", data={"label": "Vielse og navne"}).status_code == 200
    bad = client.post(f"{base}/rename", data={"label": " "})
    assert bad.status_code == 422 and "Betegnelsen skal udfyldes" in bad.text
    assert client.post(f"{base}/move", data={"direction": "up"}).status_code == 200
    assert client.post(f"{base}/active", data={"active": "false"}).status_code == 200
    session.expire_all()
    reason = session.get(ContactReason, "vielse")
    assert reason.label == "Vielse og navne" and not reason.active
    assert _codes(session)[-2:] == ["vielse", "andet"]
    assert client.post(f"{base}/delete").status_code == 200
    session.expire_all()
    assert session.get(ContactReason, "vielse") is None
