"""JSON API of the letters domain."""

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["letters"])
