"""JSON API of the calls domain."""

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["calls"])
