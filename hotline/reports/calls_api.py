"""JSON API of the reports domain: the call-detail export (one row per call, no personal data)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["reports"])
