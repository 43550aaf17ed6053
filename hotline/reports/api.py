"""JSON API of the reports domain."""

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["reports"])
