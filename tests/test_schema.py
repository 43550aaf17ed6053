"""The migrations are the schema: they must agree with the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hotline.db import Base
from hotline.rules.search import include_name


def test_migrations_match_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["status"] == "ok"
    assert body["database"]["revision"]


def test_security_headers_on_every_response(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_oversized_body_is_refused_with_413(client, settings):
    response = client.post(
        "/login",
        content=b"x" * (settings.max_body_bytes + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_a_failed_commit_is_an_error_response_not_a_lost_write(app, session):
    """The transaction ends before the response is sent, so the client learns of a failure."""
    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

    from hotline.db import request_session
    from hotline.municipalities.models import Municipality

    @app.post("/_test/duplicate-municipality")
    def add_duplicate(session: Session = request_session):
        # Not flushed: the unique violation only surfaces at commit, after the handler returned.
        session.add(
            Municipality(
                code="0751", name="Dublet", region_code="1082", region_name="Region Midtjylland"
            )
        )
        return {"status": "ok"}

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/_test/duplicate-municipality")
    assert response.status_code == 500
    assert session.get(Municipality, "0751").name == "Aarhus Kommune"


def test_db_upgrade_loads_the_reference_data_once(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from sqlalchemy import create_engine, func, select

    from hotline.calls.models import ContactReason
    from hotline.cli import main
    from hotline.municipalities.models import Municipality

    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    first = CliRunner().invoke(main, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(main, ["db", "upgrade"])
    assert "0 contact reasons added" in again.output
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Municipality)) == 98
        assert connection.scalar(select(func.count()).select_from(ContactReason)) >= 15
    engine.dispose()
