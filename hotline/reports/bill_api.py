"""JSON API of the reports domain: the bill basis as PDF (one municipality, or all as a zip)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["reports"])
