"""HTML views: console_views."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
