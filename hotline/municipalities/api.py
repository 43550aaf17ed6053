"""JSON API of the municipalities: search by name, code or postal code."""

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user
from hotline.db import request_session
from hotline.municipalities import service
from hotline.municipalities.schemas import MunicipalityMatchOut, MunicipalityOut

router = APIRouter(prefix="/api", tags=["municipalities"], dependencies=[Depends(current_user)])


@router.get("/municipalities", response_model=list[MunicipalityMatchOut])
def search(
    q: str = Query(min_length=1, max_length=100),
    participating: bool = False,
    session: Session = request_session,
):
    """Municipalities matching a name, code or postal code."""
    return [
        MunicipalityMatchOut(
            municipality=MunicipalityOut.model_validate(m.municipality),
            postnr=m.postnr,
            city=m.city,
        )
        for m in service.search_municipalities(
            session=session, query=q, participating_only=participating
        )
    ]


@router.get("/municipalities/{code}", response_model=MunicipalityOut)
def get(code: str, session: Session = request_session):
    """One municipality by its four-digit code."""
    return service.get_municipality(session=session, code=code)
