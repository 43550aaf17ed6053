"""The right-of-access export read aloud: a Danish PDF beside the JSON, zipped together.

The PDF says, in Danish with Danish dates, what the JSON holds: each call, callback, reply, phone
system event and survey answer with its fields. It is rendered like the bill bases, on the
hotline's own letterhead, from the export itself so the two files never disagree.
"""

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hotline.documents.letterhead import Letterhead
from hotline.documents.pdf import html_to_pdf
from hotline.documents.templates import document_environment, figures_css
from hotline.i18n import catalogue, t
from hotline.kit.dates import danish_date, danish_datetime
from hotline.kit.numbers import danish_number

summary_templates = document_environment(Path(__file__).parent / "templates")
KINDS = ("calls", "callbacks", "replies", "cti_events", "survey_answers")
# Each kind's fields in the order the PDF lists them; each has a label in privacy.toml.
FIELDS = {
    "calls": ("offered_at", "direction", "from_number", "to_number", "line_municipality",
              "municipality", "state", "answered_at", "ended_at", "wrapped_up_at",
              "contact_reason", "outcome", "avoidable", "avoidable_url", "notes"),
    "callbacks": ("created_at", "call_reference", "municipality", "caller_name", "caller_phone",
                  "question", "preferred_time", "rules_consulted", "status", "handled_at",
                  "handled_note"),
    "replies": ("created_at", "channel", "status", "sent_at", "purged_at", "author_name",
                "recipient_name", "recipient_address", "recipient_email", "subject", "body_md",
                "cited_rules"),
    "cti_events": ("received_at", "cti_call_id", "payload"),
    "survey_answers": ("call_reference", "created_at", "expires_at", "answered_at", "score",
                       "comment", "class"),
}  # fmt: skip
# Values that are codes, shown by their Danish label: field -> catalogue section.
LABELLED = {
    "calls": {"direction": "privacy.summary.direction", "state": "calls.state",
              "outcome": "calls.outcome"},
    "callbacks": {"status": "privacy.summary.callback_status"},
    "replies": {"channel": "letters.channel", "status": "privacy.summary.reply_status"},
    "survey_answers": {"score": "survey.score", "class": "survey.class"},
}  # fmt: skip


PAYLOAD_LABELLED = {"direction": "privacy.summary.direction", "event": "privacy.summary.event"}
# What names a record in its heading ("Opkald DH-2026-000042").
REFERENCE = {"calls": "reference", "callbacks": "id", "replies": "reference",
             "survey_answers": "call_reference"}  # fmt: skip


@dataclass(frozen=True)
class Record:
    """One thing held about the number: a heading and its fields as Danish (label, text)."""

    heading: str
    fields: list[tuple[str, str]]


@dataclass(frozen=True)
class Section:
    """All records of one kind."""

    key: str
    heading: str
    records: list[Record]


def summary_sections(export: dict[str, Any]) -> list[Section]:
    """The export's records, kind by kind, as Danish text."""
    sections = []
    for kind in KINDS:
        records = [_record(kind, n, item) for n, item in enumerate(export[kind], start=1)]
        sections.append(Section(kind, t(f"privacy.summary.heading.{kind}"), records))
    return sections


def _record(kind: str, number: int, item: dict[str, Any]) -> Record:
    fields = []
    for name in FIELDS[kind]:
        text = _text(kind, name, item.get(name))
        if text:
            fields.append((t(f"privacy.summary.field.{kind}.{name}"), text))
    if kind == "cti_events":
        heading = _label("privacy.summary.event", item.get("event") or "")
    else:
        reference = item.get(REFERENCE[kind]) or number
        heading = t(f"privacy.summary.record.{kind}", reference=reference)
    return Record(heading, fields)


def _text(kind: str, name: str, value: Any) -> str:
    """A field's value as Danish text; empty when there is nothing to show."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if name in LABELLED.get(kind, {}):
        return _label(LABELLED[kind][name], str(value))
    if name.endswith("_at"):
        return danish_datetime(datetime.fromisoformat(value))
    if name.endswith("_number") or name == "caller_phone":
        return phone_text(value)
    if isinstance(value, bool):
        return t("privacy.summary.yes") if value else t("privacy.summary.no")
    if isinstance(value, dict) and set(value) == {"code", "name"}:
        return value["name"]
    if isinstance(value, dict):  # a phone system event as received
        return "; ".join(
            f"{_label('privacy.summary.payload', key)}: {_payload_value(key, v)}"
            for key, v in value.items()
        )
    if isinstance(value, list):
        return "; ".join(_plain(v) for v in value if v)
    return _plain(value)


def _payload_value(key: str, value: Any) -> str:
    if key in PAYLOAD_LABELLED and isinstance(value, str):
        return _label(PAYLOAD_LABELLED[key], value)
    if key in ("from", "to") and isinstance(value, str):
        return phone_text(value)
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return t("privacy.summary.yes") if value else t("privacy.summary.no")
    if isinstance(value, int | float):
        return danish_number(value, 0 if float(value).is_integer() else 2)
    return str(value)


def _label(section: str, code: str) -> str:
    key = f"{section}.{code}"
    return t(key) if key in catalogue() else code


def phone_text(number: str) -> str:
    """A Danish number as Danes write it ("+45 20 12 34 56"); any other as stored."""
    if number.startswith("+45") and len(number) == 11 and number[1:].isdigit():
        digits = number[3:]
        return "+45 " + " ".join(digits[i : i + 2] for i in range(0, 8, 2))
    return number


def access_summary_html(export: dict[str, Any], letterhead: Letterhead) -> str:
    """The summary as the HTML WeasyPrint renders."""
    generated = datetime.fromisoformat(export["generated_at"])
    number = phone_text(export["number"])
    days = export["retention_days"]
    return summary_templates.get_template("access_summary.html").render(
        letterhead=letterhead,
        logo_url=letterhead.logo_path.as_uri() if letterhead.logo_path else None,
        css=figures_css(),
        title=t("privacy.summary.title", number=number),
        subject=t("privacy.summary.subject", number=number),
        intro=t("privacy.summary.intro", number=number, date=danish_date(generated)),
        generated=danish_datetime(generated),
        generated_by=export["generated_by"],
        reference=summary_reference(export),
        retention=t(
            "privacy.retention",
            call_days=danish_number(days["calls"]),
            reply_days=danish_number(days["replies"]),
        ),
        counts=[(t(f"privacy.summary.heading.{k}"), danish_number(len(export[k]))) for k in KINDS],
        sections=summary_sections(export),
    )


def summary_reference(export: dict[str, Any]) -> str:
    """The document's reference: "INDSIGT-20261207-56" (the date and the number's last digits)."""
    return f"INDSIGT-{export['generated_at'][:10].replace('-', '')}-{export['number'][-2:]}"


def access_summary_pdf(export: dict[str, Any], letterhead: Letterhead) -> bytes:
    """The summary as PDF/A on the hotline's letterhead; blocking, so call it from a thread."""
    return html_to_pdf(
        access_summary_html(export, letterhead),
        letterhead=letterhead,
        identifier=summary_reference(export),
    )


def access_zip(export: dict[str, Any], letterhead: Letterhead) -> tuple[str, bytes]:
    """The zip a system admin downloads: the JSON and its Danish summary, and the zip's name."""
    stem = f"indsigt_{export['generated_at'][:10]}"
    moment = datetime.fromisoformat(export["generated_at"]).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (
            (f"{stem}.json", json.dumps(export, ensure_ascii=False, indent=2).encode("utf-8")),
            (f"{stem}.pdf", access_summary_pdf(export, letterhead)),
        ):
            info = zipfile.ZipInfo(name, date_time=moment)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return f"{stem}.zip", buffer.getvalue()
