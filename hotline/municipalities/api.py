"""JSON API of the municipalities: search by name, code or postal code."""

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from hotline.auth.deps import current_user
from hotline.db import TransactionRoute, request_session
from hotline.i18n import t
from hotline.municipalities import service
from hotline.municipalities.essentials import get_essentials
from hotline.municipalities.schemas import (
    EssentialsOut,
    LinkOut,
    MunicipalityMatchOut,
    MunicipalityOut,
)

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api",
    tags=["municipalities"],
    dependencies=[Depends(current_user)],
)


@router.get("/municipalities", response_model=list[MunicipalityMatchOut])
def search(
    q: str = Query(min_length=1, max_length=100),
    participating: bool = False,
    session: Session = request_session,
):
    """Municipalities for a name, code, postal code or place as a caller says it, best first."""
    return [
        MunicipalityMatchOut(
            municipality=MunicipalityOut.model_validate(m.municipality),
            postnr=m.postnr,
            city=m.city,
            place=m.place,
        )
        for m in service.search_municipalities(
            session=session, query=q, participating_only=participating
        )
    ]


@router.get("/municipalities/{code}", response_model=MunicipalityOut)
def get(code: str, session: Session = request_session):
    """One municipality by its four-digit code."""
    return service.get_municipality(session=session, code=code)


@router.get("/municipalities/{code}/essentials", response_model=EssentialsOut)
def essentials(code: str, session: Session = request_session):
    """Borgerservice hours (open now or when it next opens), phone and self-service links."""
    found = get_essentials(session=session, code=code)
    m, status = found.municipality, found.status
    return EssentialsOut(
        code=m.code,
        name=m.name,
        phone=m.phone,
        web=m.web,
        hours_registered=found.registered,
        open_now=status.open_now if status else None,
        status=status.text if status else t("essentials.not_registered"),
        closes_at=status.closes_at if status else None,
        next_opens_at=status.next_opens_at if status else None,
        week=dict(found.week),
        deviations=[f"{day}: {what}" for day, what in found.deviations],
        links=[LinkOut(title=link.title, url=link.url) for link in found.links],
    )
