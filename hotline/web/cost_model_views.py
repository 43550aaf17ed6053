"""HTML views for supervisors: the cost model's rates."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
