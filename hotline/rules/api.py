"""JSON API of the rules domain."""

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["rules"])
