"""A CTI event's fields as Zammad's generic CTI sends them, checked and normalised."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from hotline.kit.errors import InvalidInput

CTI_EVENTS = ("newCall", "answer", "hangup")
DIRECTIONS = ("in", "out")
MAX_FIELD_LENGTH = 100
MAX_USERS = 20
MAX_SECONDS = 86_400
# A call the platform says was forwarded left the queue for another party: not missed (Zammad).
FORWARDED = "forwarded"
VOICEMAIL = "voicemail"
# Placetel's webhook names the same events its own way (as Zammad's Placetel driver maps them).
PLACETEL_EVENTS = {
    "IncomingCall": ("newCall", "in"),
    "OutgoingCall": ("newCall", "out"),
    "CallAccepted": ("answer", None),
    "HungUp": ("hangup", None),
}
PLACETEL_CAUSES = {"missed": "cancel", "voicemail": VOICEMAIL, "accepted": "normalClearing"}


@dataclass(frozen=True)
class CtiEventIn:
    """One event: what happened to which call, and the parts Hotline uses."""

    event: str
    call_id: str
    direction: str | None
    from_number: str | None
    to_number: str | None
    users: tuple[str, ...]
    answering: str | None
    queue: str | None
    cause: str | None
    hold_seconds: int | None
    talk_seconds: int | None

    @property
    def by_voicemail(self) -> bool:
        """Whether the platform's voicemail took the call (Zammad counts it as missed)."""
        return any(user.lower() == VOICEMAIL for user in self.users)


def parse_cti_event(payload: Mapping[str, Any]) -> CtiEventIn:
    """The event's fields; a missing, unknown or wrongly typed field is InvalidInput (422)."""
    event = _scalar(payload, "event")
    if not event:
        raise InvalidInput("calls.cti_missing_field", field="event")
    if event in PLACETEL_EVENTS:
        return parse_cti_event(_from_placetel(payload, *PLACETEL_EVENTS[event]))
    if event not in CTI_EVENTS:
        raise InvalidInput("calls.cti_unknown_event", event=event[:40])
    # Zammad reads callId and, from platforms that write it so, call_id.
    call_id = _scalar(payload, "callId") or _scalar(payload, "call_id")
    if not call_id:
        raise InvalidInput("calls.cti_missing_field", field="callId")
    if len(call_id) > MAX_FIELD_LENGTH:
        raise InvalidInput("calls.cti_field_too_long", field="callId")
    direction = _scalar(payload, "direction")
    if direction is not None and direction not in DIRECTIONS:
        raise InvalidInput("calls.cti_invalid_direction", direction=direction[:20])
    return CtiEventIn(
        event=event,
        call_id=call_id,
        direction=direction,
        from_number=normalise_number(_scalar(payload, "from")),
        to_number=normalise_number(_scalar(payload, "to")),
        users=_users(payload),
        answering=_scalar(payload, "answeringNumber"),
        queue=_truncated(_scalar(payload, "queue"), MAX_FIELD_LENGTH),
        cause=_truncated(_scalar(payload, "cause"), 20),
        hold_seconds=_seconds(payload, "holdTime"),
        talk_seconds=_seconds(payload, "talkTime"),
    )


def _from_placetel(payload: Mapping[str, Any], event: str, direction: str | None) -> dict:
    """A Placetel notification in the generic shape: type gives the cause, peer who answered."""
    fields = {**payload, "event": event}
    if direction:
        fields["direction"] = direction
    kind = _scalar(payload, "type")
    if kind:
        fields.setdefault("cause", PLACETEL_CAUSES.get(kind, kind))
    peer = _scalar(payload, "peer")
    if peer:
        fields.setdefault("answeringNumber", peer)
    return fields


def normalise_number(raw: str | None) -> str | None:
    """A phone number in E.164 (Danish ones without +45 too), else as sent ("anonymous")."""
    if raw is None:
        return None
    raw = raw.strip()[:32]
    if not raw:
        return None
    for candidate in (raw, "+" + raw.lstrip("+")):
        try:
            number = phonenumbers.parse(candidate, "DK")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return raw


def _scalar(payload: Mapping[str, Any], name: str) -> str | None:
    """A text or number field, stripped; None when absent or empty."""
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput("calls.cti_bad_field", field=name)
    text = str(value).strip()
    if len(text) > 10 * MAX_FIELD_LENGTH:
        raise InvalidInput("calls.cti_field_too_long", field=name)
    return text or None


def _truncated(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


def _users(payload: Mapping[str, Any]) -> tuple[str, ...]:
    """The logins in user and user[]: a string, a list, or names joined by commas."""
    names: list[str] = []
    for key in ("user", "user[]"):
        value = payload.get(key)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is None:
                continue
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise InvalidInput("calls.cti_bad_field", field=key)
            names += [name.strip()[:64] for name in str(item).split(",") if name.strip()]
    return tuple(names[:MAX_USERS])


def _seconds(payload: Mapping[str, Any], name: str) -> int | None:
    """Whole seconds from 0 to a day (Asterisk's HoldTime and TalkTime)."""
    value = _scalar(payload, name)
    if value is None:
        return None
    try:
        seconds = int(float(value))
    except (ValueError, OverflowError):
        raise InvalidInput("calls.cti_bad_field", field=name) from None
    if not 0 <= seconds <= MAX_SECONDS:
        raise InvalidInput("calls.cti_bad_field", field=name)
    return seconds
