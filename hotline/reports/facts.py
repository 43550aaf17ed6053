"""What one call adds to the reports, and the sums of many: one definition for every path."""

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from hotline.calls.models import CallState, seconds_between
from hotline.kit.dates import COPENHAGEN

# Each of these is final for the queue; a change to one later (an outgoing call's answer or hang-up,
# a correction) moves it in the roll-up by its old and new values.
FINISHED_STATES = (
    CallState.DONE,
    CallState.ABANDONED,
    CallState.ELSEWHERE,
    CallState.LOST,
    CallState.OUTGOING,
)
# No Hotline agent answered a call in these states, whatever answered_at says (an early CTI answer
# on an abandoned call, the platform's answer of a call taken elsewhere, an outgoing call).
UNANSWERED_STATES = (
    CallState.ABANDONED,
    CallState.ELSEWHERE,
    CallState.LOST,
    CallState.OUTGOING,
)
# Upper bounds of the wait buckets in seconds: the 90th-percentile wait is given as the upper
# bound of its bucket (5 s steps to 2 min, 30 s to 10 min, 5 min to 1 h, then 2, 4 and 24 h).
WAIT_BUCKETS = (
    *range(5, 121, 5),
    *range(150, 601, 30),
    *range(900, 3601, 300),
    7200,
    14400,
    86400,
)
# The columns call_facts() reads, in its argument order (for a select() of raw calls).
FACT_COLUMNS = (
    "state",
    "offered_at",
    "answered_at",
    "ended_at",
    "wrapped_up_at",
    "municipality_code",
    "line_municipality_code",
    "contact_reason_code",
    "avoidable",
)


@dataclass(frozen=True)
class CallFacts:
    """One call's part of the report, keyed by its Danish day and month and billed municipality."""

    day: date
    month: date
    code: str
    offered: bool  # an incoming call: every state but OUTGOING
    answered: bool
    abandoned: bool
    elsewhere: bool
    lost: bool
    outgoing: bool
    wait: int
    talk: int
    after_call: int
    outgoing_talk: int
    avoidable: bool
    reason: str | None
    hour_of_week: int

    def sums(self) -> tuple[int, ...]:
        """What the call adds to each of SUM_FIELDS, in that order."""
        return (
            int(self.offered),
            int(self.answered),
            int(self.abandoned),
            self.wait,
            self.talk,
            self.after_call,
            int(self.avoidable),
            int(self.elsewhere),
            int(self.lost),
            int(self.outgoing),
            self.outgoing_talk,
        )

    def count_keys(self) -> list[tuple[str, str]]:
        """The (kind, key) counters this call adds one to, in a fixed order."""
        if not self.offered:
            return []
        keys = [("hour", str(self.hour_of_week))]
        if self.answered:
            keys.append(("wait", str(wait_bucket(self.wait))))
            if self.reason:
                keys.append(("reason", self.reason))
        return sorted(keys)


def call_facts(
    state: str,
    offered_at: datetime,
    answered_at: datetime | None,
    ended_at: datetime | None,
    wrapped_up_at: datetime | None,
    municipality_code: str | None,
    line_municipality_code: str | None,
    contact_reason_code: str | None,
    avoidable: bool | None,
) -> CallFacts:
    """The facts of a call from its columns (the bill follows the chosen, else the line's code)."""
    local = offered_at.astimezone(COPENHAGEN)
    outgoing = state == CallState.OUTGOING
    answered = state not in UNANSWERED_STATES and answered_at is not None
    return CallFacts(
        day=local.date(),
        month=local.date().replace(day=1),
        code=municipality_code or line_municipality_code or "",
        offered=not outgoing,
        answered=answered,
        abandoned=state == CallState.ABANDONED,
        elsewhere=state == CallState.ELSEWHERE,
        lost=state == CallState.LOST,
        outgoing=outgoing,
        wait=(seconds_between(offered_at, answered_at) or 0) if answered else 0,
        talk=(seconds_between(answered_at, ended_at) or 0) if answered else 0,
        after_call=(seconds_between(ended_at, wrapped_up_at) or 0) if answered else 0,
        outgoing_talk=(seconds_between(answered_at, ended_at) or 0) if outgoing else 0,
        avoidable=bool(avoidable) and answered,
        reason=contact_reason_code if answered else None,
        hour_of_week=local.weekday() * 24 + local.hour,
    )


def wait_bucket(seconds: int) -> int:
    """The upper bound of the wait bucket holding this many seconds."""
    return WAIT_BUCKETS[wait_bucket_index(seconds)]


def wait_bucket_index(seconds: int) -> int:
    """The index in WAIT_BUCKETS of the bucket holding this many seconds."""
    return min(bisect_left(WAIT_BUCKETS, seconds), len(WAIT_BUCKETS) - 1)


@dataclass
class Tally:
    """Sums over calls: counts, seconds, and counters per (kind, key)."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    wait_seconds: int = 0
    talk_seconds: int = 0
    after_call_seconds: int = 0
    avoidable: int = 0
    elsewhere: int = 0
    lost: int = 0
    outgoing: int = 0
    outgoing_seconds: int = 0
    counts: Counter = field(default_factory=Counter)

    def add_call(self, facts: CallFacts, sign: int = 1) -> None:
        """Add (or with sign -1 take away) one call."""
        for name, value in zip(SUM_FIELDS, facts.sums(), strict=True):
            setattr(self, name, getattr(self, name) + sign * value)
        for key in facts.count_keys():
            self.counts[key] += sign

    def add(self, other: "Tally") -> None:
        """Add another tally's sums."""
        for name in SUM_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.counts.update(other.counts)

    def of_kind(self, kind: str) -> dict[str, int]:
        """The non-zero counters of one kind, by key."""
        return {key: n for (k, key), n in self.counts.items() if k == kind and n}

    @property
    def handled_seconds(self) -> int:
        """Talk plus after-call work."""
        return self.talk_seconds + self.after_call_seconds

    def wait_p90(self) -> int | None:
        """The 90th-percentile wait of the answered calls, to its bucket's upper bound."""
        buckets = sorted((int(k), n) for k, n in self.of_kind("wait").items())
        total = sum(n for _, n in buckets)
        if not total:
            return None
        seen = 0
        for upper, n in buckets:
            seen += n
            # The smallest bucket holding at least 90 % of the calls (nearest-rank method).
            if seen * 10 >= total * 9:
                return upper
        return buckets[-1][0]


# The summed fields of a Tally, in order (a Tally can be built from them positionally).
SUM_FIELDS = tuple(f.name for f in fields(Tally) if f.name != "counts")
