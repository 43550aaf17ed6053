"""Calls: CTI intake, the queue, pick-up, the active call and wrap-up."""

from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.calls.models import Call
from hotline.kit.errors import NotFound, PermissionDenied


def get_call(*, session: Session, call_id: int, user: User) -> Call:
    """A call the user may work on: the agent who has it, or a supervisor."""
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound("calls.not_found")
    if call.agent_id != user.id and user.role not in (Role.SUPERVISOR, Role.SYSTEM_ADMIN):
        raise PermissionDenied("error.permission_denied")
    return call
