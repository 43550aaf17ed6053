"""The call-detail export's cells made in Python: labels, free text, SQLite's rows as CSV lines."""

from datetime import UTC, datetime

from hotline.calls.models import CallState, Outcome, seconds_between
from hotline.i18n import t
from hotline.kit.cpr import mask_cpr
from hotline.kit.dates import COPENHAGEN
from hotline.reports.export import safe_text
from hotline.reports.facts import UNANSWERED_STATES

URL_CELLS = 10_000
_NEEDS_QUOTES = ('"', "\r", "\n")
_UNANSWERED = frozenset(state.value for state in UNANSWERED_STATES)


def state_labels() -> dict[str, str]:
    """Each call state's Danish label, as the pages show it."""
    return {state.value: t(f"calls.state.{state.value}") for state in CallState}


def outcome_labels() -> dict[str, str]:
    """Each outcome's Danish label, as the pages show it."""
    return {outcome.value: t(f"calls.outcome.{outcome.value}") for outcome in Outcome}


def text_cell(value: str, delimiter: str) -> str:
    """A free-text cell: no formula, CPR numbers masked, quoted when it needs to be."""
    value = safe_text(mask_cpr(value))
    if delimiter in value or any(char in value for char in _NEEDS_QUOTES):
        return '"' + value.replace('"', '""') + '"'
    return value


class BatchEncoder:
    """Rows of the SQLite query to CSV lines; keeps the last hour's local time between batches."""

    def __init__(self, names: dict[str, str], reasons: dict[str, str], delimiter: str) -> None:
        self.names, self.delimiter = names, delimiter
        # Code columns as their cells: the reason's code and label, the Danish state and outcome.
        self.reasons = {None: delimiter} | {
            code: f"{code}{delimiter}{text_cell(label, delimiter)}"
            for code, label in reasons.items()
        }
        self.states = {code: text_cell(label, delimiter) for code, label in state_labels().items()}
        self.outcomes = {None: ""} | {
            code: text_cell(label, delimiter) for code, label in outcome_labels().items()
        }
        self.utc_hour, self.local_hour = "", ""
        self.url_cells: dict[str, str] = {}  # the same few pages are named again and again

    def url_cell(self, url: str) -> str:
        """The avoidable-URL cell, made once per distinct URL (at most URL_CELLS kept)."""
        cell = self.url_cells.get(url)
        if cell is None:
            if len(self.url_cells) >= URL_CELLS:
                self.url_cells.clear()
            cell = self.url_cells[url] = text_cell(url, self.delimiter)
        return cell

    def encode(self, rows: list[tuple]) -> bytes:
        """One batch as UTF-8 CSV lines."""
        d, names, parse = self.delimiter, self.names, datetime.fromisoformat
        unanswered, outgoing = _UNANSWERED, CallState.OUTGOING.value
        states, reasons, outcomes = self.states, self.reasons, self.outcomes
        lines = []
        for (
            reference, offered, state, code, answered, ended, wrapped, reason, outcome,
            avoidable, url,
        ) in rows:  # fmt: skip
            if offered[:13] != self.utc_hour:  # rows come in time order: a new hour
                self.utc_hour, self.local_hour = offered[:13], _local_hour(offered[:13])
            wait = talk = after_call = ""
            # seconds_between, written out: a function call per cell costs a tenth of the export.
            if answered is not None and state not in unanswered:
                picked_up = parse(answered)
                wait = max(0, round((picked_up - parse(offered)).total_seconds()))
                if ended is not None:
                    hung_up = parse(ended)
                    talk = max(0, round((hung_up - picked_up).total_seconds()))
                    if wrapped is not None:
                        after_call = max(0, round((parse(wrapped) - hung_up).total_seconds()))
            elif state == outgoing and answered is not None and ended is not None:
                talk = seconds_between(parse(answered), parse(ended))
            lines.append(
                f"{reference}{d}{self.local_hour}{offered[13:19]}{d}{states.get(state, state)}{d}"
                f"{code}{d}{names.get(code, '')}{d}{wait}{d}{talk}{d}{after_call}{d}"
                f"{reasons.get(reason) or f'{reason}{d}'}{d}{outcomes.get(outcome, outcome)}{d}"
                f"{avoidable}{d}{self.url_cell(url) if url else ''}\r\n"
            )
        return "".join(lines).encode("utf-8")


def _local_hour(utc_hour: str) -> str:
    """An hour "YYYY-MM-DD HH" in UTC as "YYYY-MM-DDTHH" in Danish time (whole-hour offsets)."""
    moment = datetime.fromisoformat(f"{utc_hour}:00").replace(tzinfo=UTC)
    return moment.astimezone(COPENHAGEN).strftime("%Y-%m-%dT%H")
