"""The migrations are the schema: they must agree with the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hotline.db import Base


def test_migrations_match_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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
