"""The console's queue on the live streams: rendered once per change, sent as row patches.

A change renders the queue once per variant (free, busy, away) in parts: the head (count and
next-call button), each row keyed by its call's id, the "more" line. A console that shows the
previous change's queue of its variant gets a patch (event "queue-rows"): the head, the rows'
order, and only the rows that are new or show something new; the consoles on the same previous
change share its bytes. A console's first render, a change of variant, and the queue filling or
emptying send the whole fragment (event "queue"), shared the same way. No part holds a CSRF
token: the console's claim form lies outside the fragment.

At 200 consoles and 200 waiting calls, sending each console the whole queue with a form per row
cost about 0.3 s of event-loop time and 33 MB per change.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime

from hotline.calls.queue import QueuedCall, QueueWindow, waited_seconds
from hotline.web.console_views import QUEUE_VARIANTS, window_context
from hotline.web.templating import templates

RowKey = tuple  # what a row shows, bar its clock and position (calls.js keeps those up)


@dataclass(frozen=True)
class QueueView:
    """One variant of the queue, rendered: the whole fragment and its parts."""

    full: str
    head: str
    more: str
    rows: dict[int, tuple[RowKey, str]]  # call id -> (what it shows, its HTML), oldest first
    patches: dict[int, str | None] = field(default_factory=dict, compare=False)

    def patch_from(self, old: "QueueView", old_serial: int) -> str | None:
        """The "queue-rows" data that turns `old` into this view (None: nothing to send)."""
        if old_serial not in self.patches:
            self.patches[old_serial] = queue_patch(old, self)
        return self.patches[old_serial]


def render_queue_views(window: QueueWindow, now: datetime) -> dict[str, QueueView]:
    """Every variant of the queue for this window of waiting calls."""
    parts = templates.env.get_template("console/_queue_parts.html").module
    context = window_context(window)
    keyed = [(c, _row_key(c)) for c in window.calls]
    rows = {
        may_take: {
            c.id: (key, parts.queue_row(c, waited_seconds(c.offered_at, now), n, may_take))
            for n, (c, key) in enumerate(keyed, start=1)
        }
        for may_take in (False, True)
    }
    more = str(parts.queue_more(window.count - len(window.calls), window.newest))
    fragment = templates.env.get_template("console/_queue.html")
    views = {}
    for variant, flags in QUEUE_VARIANTS.items():
        may_take = not flags["agent_busy"] and not flags["agent_away"]
        rendered = [html for _key, html in rows[may_take].values()]
        views[variant] = QueueView(
            full=fragment.render(**context, **flags, rendered_rows=rendered),
            head=str(parts.queue_head(window.count, flags["agent_busy"], flags["agent_away"])),
            more=more,
            rows=rows[may_take],
        )
    return views


def queue_patch(old: QueueView, new: QueueView) -> str | None:
    """The head, the order of the rows and the new or changed rows, as JSON; None if equal."""
    changed = {
        str(call_id): html
        for call_id, (key, html) in new.rows.items()
        if call_id not in old.rows or old.rows[call_id][0] != key
    }
    order = list(new.rows)
    if not changed and order == list(old.rows) and (new.head, new.more) == (old.head, old.more):
        return None
    patch = {"head": new.head, "more": new.more, "order": order, "rows": changed}
    return json.dumps(patch, ensure_ascii=False, separators=(",", ":"))


def needs_whole(old: QueueView | None, new: QueueView) -> bool:
    """Whether a console showing `old` gets the whole fragment rather than a patch."""
    return old is None or bool(old.rows) != bool(new.rows)


def _row_key(call: QueuedCall) -> RowKey:
    return (call.reference, call.caller_number, call.line_name, call.offered_at)
