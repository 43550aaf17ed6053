"""GET /healthz: the process is up and the database answers."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hotline.db import TransactionRoute

router = APIRouter(route_class=TransactionRoute)


@router.get("/healthz", tags=["health"])
def healthz(request: Request) -> JSONResponse:
    """Report the database's state; 503 when it does not answer."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        database = {"status": "ok", "dialect": engine.dialect.name, "revision": revision}
        status = 200
    except SQLAlchemyError as exc:
        database = {"status": "error", "dialect": engine.dialect.name, "error": type(exc).__name__}
        status = 503
    return JSONResponse(
        {"status": "ok" if status == 200 else "degraded", "database": database}, status_code=status
    )
