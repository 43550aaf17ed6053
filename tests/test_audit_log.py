"""The audit log: searched and exported by supervisors and system admins, never changed."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from hotline.audit.models import AuditEntry, AuditLogIsAppendOnly
from hotline.audit.search import PAGE_SIZE
from hotline.auth.models import Role


@pytest.fixture
def entries(session):
    """Changes by two admins over three days, in Aarhus and Aalborg."""
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for n in range(PAGE_SIZE + 10):
        session.add(
            AuditEntry(
                at=start + timedelta(hours=n),
                actor_name="admin-aarhus" if n % 2 else "admin-aalborg",
                action="rule.save" if n % 3 else "cost_rate.update",
                entity_type="rule" if n % 3 else "cost_rate",
                entity_id=f"pas-{n}" if n % 3 else "=HYPERLINK(1)",
                municipality_code="0751" if n % 2 else "0851",
                before={"body": f"v{n}", "same": 1},
                after={"body": f"v{n + 1}", "same": 1},
            )
        )
    session.commit()


def test_search_filters_and_pages_back_in_time(api_client, make_user, entries):
    api = api_client(make_user(Role.SUPERVISOR))
    first = api.get("/api/audit/entries").json()
    assert len(first["entries"]) == PAGE_SIZE
    ids = [e["id"] for e in first["entries"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    rest = api.get("/api/audit/entries", params={"before": first["next_before"]}).json()
    assert len(rest["entries"]) == 10 and rest["next_before"] is None
    assert first["entries"][0]["changed"] == ["body"]
    aarhus = api.get(
        "/api/audit/entries", params={"actor": "ADMIN-AARHUS", "municipality": "0751"}
    ).json()["entries"]
    assert aarhus and {e["actor"] for e in aarhus} == {"admin-aarhus"}
    rates = api.get("/api/audit/entries", params={"type": "cost_rate"}).json()["entries"]
    assert {e["action"] for e in rates} == {"cost_rate.update"}
    assert rates[0]["action_label"] == "Sats ændret" and rates[0]["entity_type_label"] == "Sats"
    saves = api.get("/api/audit/entries", params={"action": "rule.save"}).json()["entries"]
    assert saves and {e["action"] for e in saves} == {"rule.save"}
    one_day = api.get("/api/audit/entries", params={"from": "2026-11-02", "to": "2026-11-02"})
    # 09.00 UTC is 10.00 in Denmark: entries until 23.00 UTC are on 2 November.
    assert len(one_day.json()["entries"]) == 14
    by_text = api.get("/api/audit/entries", params={"q": "pas-1_"}).json()["entries"]
    assert by_text == []  # "_" is a character, not a wildcard
    bad = api.get("/api/audit/entries", params={"municipality": "aarhus"})
    assert bad.status_code == 422


def test_csv_export_is_complete_and_safe_for_excel(api_client, make_user, entries):
    response = api_client(make_user(Role.SYSTEM_ADMIN)).get("/api/audit/entries.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:7] == ["id", "tidspunkt", "bruger", "handling", "handling_kode", "type",
                           "type_kode"]  # fmt: skip
    assert len(rows) == 1 + PAGE_SIZE + 10
    assert rows[1][1] == "2026-11-02T10:00:00"  # Danish time
    assert rows[1][3:7] == ["Sats ændret", "cost_rate.update", "Sats", "cost_rate"]
    formula = next(r for r in rows[1:] if "HYPERLINK" in r[7])
    assert formula[7] == "'=HYPERLINK(1)"


def test_the_page_shows_entries_and_links_the_export(login, make_user, entries):
    client = login(make_user(Role.SUPERVISOR))
    page = client.get("/admin/audit", params={"type": "cost_rate"})
    assert page.status_code == 200
    table = page.text[page.text.index("<tbody>") :]
    assert "Sats ændret" in table and "Lokal regel gemt" not in table
    assert "2. november 2026 kl. 10.00.00" in page.text  # Danish time, the long Danish date
    # The filters offer what the log holds, by their Danish labels.
    assert '<option value="cost_rate" selected>Sats</option>' in page.text
    assert '<option value="rule.save" >Lokal regel gemt som ny version</option>' in page.text
    assert "/api/audit/entries.csv?type=cost_rate" in page.text
    by_action = client.get("/admin/audit", params={"action": "rule.save"}).text
    assert "Sats ændret" not in by_action[by_action.index("<tbody>") :]
    # Free text finds an action by its Danish label as well as by its code.
    by_label = client.get("/admin/audit", params={"q": "sats ÆNDRET"}).text
    table = by_label[by_label.index("<tbody>") :]
    assert "Sats ændret" in table and "Lokal regel gemt" not in table
    assert (
        login(make_user(Role.SUPERVISOR, username="s2"))
        .get("/admin/audit", params={"from": "2026-13-01"})
        .status_code
        == 422
    )


@pytest.mark.parametrize("role", [Role.AGENT, Role.MUNICIPALITY_ADMIN])
def test_only_supervisors_and_system_admins_read_it(role, api_client, make_user, entries):
    user = make_user(role, "0751") if role == Role.MUNICIPALITY_ADMIN else make_user(role)
    assert api_client(user).get("/api/audit/entries").status_code == 403
    assert api_client(user).get("/api/audit/entries.csv").status_code == 403


def test_entries_cannot_be_changed_or_deleted(session, entries):
    entry = session.scalar(select(AuditEntry).limit(1))
    entry.action = "rule.forged"
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()
    session.rollback()
    session.delete(session.scalar(select(AuditEntry).limit(1)))
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()
    session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        # Below the ORM too: the database refuses it.
        for statement in (update(AuditEntry).values(action="x"), text("DELETE FROM audit_entries")):
            with pytest.raises(DBAPIError, match="append-only"):
                session.execute(statement)
            session.rollback()
