"""JSON API of the reports domain: the cost model's effective-dated rates."""

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["reports"])
