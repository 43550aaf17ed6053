"""JSON API of the search synonyms: the national list, and a municipality's own lines."""

from datetime import datetime

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user
from hotline.auth.models import User
from hotline.auth.service import ensure_can_admin_municipality
from hotline.db import TransactionRoute, request_session
from hotline.kit.responses import model_json
from hotline.municipalities.service import get_municipality
from hotline.rules.models import SearchSynonym
from hotline.rules.synonyms import add_local_synonym, delete_local_synonym, list_synonyms

router = APIRouter(route_class=TransactionRoute, prefix="/api", tags=["rules"])
CODE = Path(pattern=r"^\d{4}$", description="kommunekode, e.g. 0751")


class SynonymIn(BaseModel):
    """A line of synonyms: "a, b, c" (equivalent) or "a, b => c" (one-way)."""

    model_config = ConfigDict(extra="forbid")

    # Checked by the service (at most 300 characters, at least two phrases or an arrow).
    line: str = Field(max_length=1000)


class SynonymOut(BaseModel):
    """A stored line; municipality_code None for the national list."""

    id: int
    municipality_code: str | None
    line: str
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, synonym: SearchSynonym) -> "SynonymOut":
        """The output shape of a stored line."""
        return cls(
            id=synonym.id,
            municipality_code=synonym.municipality_code,
            line=synonym.line,
            created_by=synonym.created_by_name,
            created_at=synonym.created_at,
        )


class SynonymsOut(BaseModel):
    """The synonyms a municipality's searches use."""

    national: list[SynonymOut]
    local: list[SynonymOut]


@router.get("/synonyms/{code}", response_model=SynonymsOut)
def synonyms(
    code: str = CODE, user: User = Depends(current_user), session: Session = request_session
) -> SynonymsOut:
    """The national lines and the municipality's own (admins of the municipality)."""
    ensure_can_admin_municipality(user, code)
    get_municipality(session=session, code=code)
    return SynonymsOut(
        national=[SynonymOut.of(s) for s in list_synonyms(session=session, municipality_code=None)],
        local=[SynonymOut.of(s) for s in list_synonyms(session=session, municipality_code=code)],
    )


@router.post("/synonyms/{code}", response_model=SynonymOut, status_code=201)
def add_synonym(
    body: SynonymIn,
    code: str = CODE,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> Response:
    """Add a line to the municipality's synonyms (409 if it is there already)."""
    synonym = add_local_synonym(session=session, user=user, municipality_code=code, line=body.line)
    return model_json(SynonymOut, SynonymOut.of(synonym), status_code=201)


@router.delete("/synonyms/{code}/{synonym_id}", status_code=204)
def delete_synonym(
    synonym_id: int = Path(ge=1, le=2**31 - 1),
    code: str = CODE,
    user: User = Depends(current_user),
    session: Session = request_session,
) -> Response:
    """Remove one of the municipality's lines."""
    delete_local_synonym(session=session, user=user, municipality_code=code, synonym_id=synonym_id)
    return Response(status_code=204)
