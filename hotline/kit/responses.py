"""JSON answers of routes that write, made in the route's own thread."""

from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel


def model_json(model: type[BaseModel], value: Any, status_code: int = 200) -> Response:
    """The value as the model's JSON, validated and encoded here rather than by FastAPI.

    FastAPI validates a synchronous route's answer in a second trip to the thread pool. A route
    that wrote holds SQLite's writer lock (db_sqlite) until its commit, and in that trip it waited
    for a thread while every route thread waited for the lock. Routes that write answer with this;
    their response_model still documents the answer.
    """
    body = model.model_validate(value).model_dump_json(by_alias=True)
    return Response(body, status_code=status_code, media_type="application/json")
