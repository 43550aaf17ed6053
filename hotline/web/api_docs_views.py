"""GET /docs: the API description in Swagger UI, served from our own static files."""

from fastapi import APIRouter, Request

from hotline.db import TransactionRoute
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)


@router.get("/docs")
def api_docs(request: Request):
    """Swagger UI over /openapi.json; FastAPI's own page would load it from a CDN."""
    return render(request, "api_docs.html")
