"""Asterisk's queue events (AMI) as Hotline's CTI events: a pure mapping, no I/O.

The callId is the caller channel's Uniqueid, which every queue event of the call carries: the
mapping keeps no state, so a restarted adapter gives later events of a call the same callId. Each
event also carries what the events before it said, because one may have been lost while the
adapter was disconnected: an answer repeats the newCall, a hangup repeats both, and Hotline's
idempotency per (callId, event) makes the repeats harmless.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_CALL_ID_LENGTH = 100
# Hotline refuses seconds beyond a day; a longer one is garbled.
MAX_SECONDS = 86_400
ANONYMOUS = "anonymous"
UNKNOWN_NUMBERS = ("", "<unknown>", "unknown")
# The events that say something about a call in a queue; QueueEntry answers QueueStatus.
MAPPED_EVENTS = frozenset(
    {"QueueCallerJoin", "QueueEntry", "AgentConnect", "AgentComplete", "QueueCallerAbandon"}
)


class AmiEventError(ValueError):
    """An event Hotline should understand that lacks a field it needs, or has it garbled."""


@dataclass(frozen=True)
class AmiMapping:
    """What decides how events map: the queues Hotline serves and where the dialled number is."""

    # Empty: every queue.
    queues: frozenset[str] = frozenset()
    # A channel variable (manager.conf channelvars) holding the dialled number; empty: Exten.
    dialled_variable: str = ""

    @classmethod
    def from_settings(cls, queues: str, dialled_variable: str) -> "AmiMapping":
        """The mapping for HOTLINE_ASTERISK_QUEUES (a comma list) and _DIALLED_VARIABLE."""
        names = frozenset(name.strip() for name in queues.split(",") if name.strip())
        return cls(queues=names, dialled_variable=dialled_variable.strip())


def cti_payloads(event: Mapping[str, Any], mapping: AmiMapping) -> list[dict[str, Any]]:
    """The CTI payloads for one AMI event (its headers), in the order to record them.

    An event of another kind, or of a queue Hotline does not serve, maps to nothing; one that
    lacks the caller's Uniqueid raises AmiEventError.
    """
    headers = {str(name).lower(): value for name, value in event.items()}
    name = _header(headers, "event")
    if name not in MAPPED_EVENTS:
        return []
    queue = _header(headers, "queue")
    if mapping.queues and queue not in mapping.queues:
        return []
    call = _call_fields(headers, mapping, queue=queue, entry=name == "QueueEntry")
    new_call = {"event": "newCall", **call}
    if name in ("QueueCallerJoin", "QueueEntry"):
        wait = _seconds(headers, "wait")
        return [new_call | ({"holdTime": wait} if wait is not None else {})]
    hold = _seconds(headers, "holdtime")
    timing = {"holdTime": hold} if hold is not None else {}
    # A call first heard of here came in that long ago (ignored when its newCall came before).
    new_call |= timing
    if name == "QueueCallerAbandon":
        return [new_call, {"event": "hangup", **call, "cause": "cancel", **timing}]
    answer = {"event": "answer", **call, **_agent_fields(headers), **timing}
    if name == "AgentConnect":
        return [new_call, answer]
    talk = _seconds(headers, "talktime")
    if talk is not None:
        timing["talkTime"] = talk
        if hold is not None:
            new_call["holdTime"] = hold + talk
    return [new_call, answer, {"event": "hangup", **call, "cause": "normalClearing", **timing}]


def _call_fields(
    headers: dict[str, Any], mapping: AmiMapping, *, queue: str, entry: bool
) -> dict[str, Any]:
    call_id = _header(headers, "uniqueid")
    if not call_id:
        raise AmiEventError("no Uniqueid")
    if len(call_id) > MAX_CALL_ID_LENGTH:
        raise AmiEventError("Uniqueid too long")
    caller = _header(headers, "calleridnum")
    fields = {
        "callId": call_id,
        "direction": "in",
        "from": ANONYMOUS if caller.lower() in UNKNOWN_NUMBERS else caller,
        "queue": queue,
    }
    # QueueEntry carries no dialled number: the adapter asks for it and puts it in Exten.
    dialled = _header(headers, "exten") if entry else _dialled_number(headers, mapping)
    if dialled:
        fields["to"] = dialled
    return fields


def _dialled_number(headers: dict[str, Any], mapping: AmiMapping) -> str:
    if not mapping.dialled_variable:
        return _header(headers, "exten")
    variables = headers.get("chanvariable") or []
    wanted = mapping.dialled_variable.lower()
    for item in variables if isinstance(variables, list) else [variables]:
        name, _, value = str(item).partition("=")
        if name.strip().lower() == wanted:
            return value.strip()
    return ""


def _agent_fields(headers: dict[str, Any]) -> dict[str, Any]:
    """Who answered: the queue member's name, and the endpoint of its interface."""
    member = _header(headers, "membername")
    fields: dict[str, Any] = {"user": [member] if member else []}
    endpoint = interface_endpoint(_header(headers, "interface"))
    if endpoint:
        fields["answeringNumber"] = endpoint
    return fields


def interface_endpoint(interface: str) -> str:
    """The endpoint of a queue member's interface: "PJSIP/anna" and "Local/anna@agents/n" → anna."""
    _, _, rest = interface.partition("/")
    return rest.split("@", 1)[0].split("/", 1)[0].strip()


def _header(headers: dict[str, Any], name: str) -> str:
    """A header's text ("" when absent); of a repeated header, the first."""
    value = headers.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value).strip()


def _seconds(headers: dict[str, Any], name: str) -> int | None:
    """Whole seconds, or None when absent or garbled (the event is still worth recording)."""
    text = _header(headers, name)
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_SECONDS:
        return None
    return int(text)
