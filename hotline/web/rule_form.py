"""The admin's rule form: its values from a version or a draft, as posted, and its problems.

Every problem is found in one pass and reported at its field (the page marks each field and lists
them all in an error summary at the top).
"""

from pydantic import ValidationError

from hotline.i18n import catalogue, t
from hotline.kit.errors import InvalidInput
from hotline.rules.models import RuleDraft
from hotline.rules.schemas import LocalRuleIn
from hotline.rules.service import check_mode

FORM_FIELDS = ("fee_dkk", "deadline", "phone", "self_service_url", "legal_basis")
# Kept from the newest version when a POST leaves them out (the form itself always sends them).
CARRIED_KEYS = ("tags", "valid_from", "valid_to")
FORM_LABELS = {
    "mode": "rules.admin.mode",
    "title": "rules.admin.form_title",
    "category": "rules.admin.form_category",
    "body_md": "rules.admin.form_body",
    "agent_notes_md": "rules.admin.form_notes",
    "tags": "rules.admin.form_tags",
    "valid_from": "rules.admin.form_valid_from",
    "valid_to": "rules.admin.form_valid_to",
}
# The form's fields in the order the page shows them: the error summary lists problems so.
FIELD_ORDER = (
    "mode",
    "title",
    "category",
    "tags",
    "body_md",
    "agent_notes_md",
    "fee_dkk",
    "phone",
    "deadline",
    "self_service_url",
    "legal_basis",
    "valid_from",
    "valid_to",
)


def posted_rule_form(submitted: dict[str, str], editing) -> dict[str, str]:
    """The edit form as posted; fields a POST leaves out are carried from the newest version."""
    form = {key: submitted.get(key, "") for key in form_keys()}
    saved = form_from_version(editing)
    form.update({key: saved[key] for key in CARRIED_KEYS if key not in submitted})
    return form


def draft_form(draft: RuleDraft) -> dict[str, str]:
    """The edit form's values from a draft's content."""
    content = draft.content
    fields = content.get("fields") or {}
    form = {
        "mode": content.get("mode", ""),
        "title": content.get("title", ""),
        "category": content.get("category", ""),
        "tags": ", ".join(content.get("tags") or ()),
        "body_md": content.get("body_md", ""),
        "agent_notes_md": content.get("agent_notes_md", ""),
        "valid_from": content.get("valid_from") or "",
        "valid_to": content.get("valid_to") or "",
        # The version the draft's text is based on: publishing checks it is still the newest.
        "expected_version": str(draft.base_version),
        "draft_revision": str(draft.revision),
    }
    form.update({key: "" if fields.get(key) is None else str(fields[key]) for key in FORM_FIELDS})
    return form


def form_keys() -> tuple[str, ...]:
    """The names the edit form posts."""
    return (
        "mode",
        "title",
        "category",
        "tags",
        "body_md",
        "agent_notes_md",
        "valid_from",
        "valid_to",
        "expected_version",
        *FORM_FIELDS,
    )


def form_from_version(editing) -> dict[str, str]:
    """The edit form's values from the newest local version (a new rule's defaults if none)."""
    local = editing.local
    if local is None:
        mode = "replace" if editing.national else "local_only"
        form = dict.fromkeys(form_keys(), "")
        form.update(mode=mode, expected_version="0")
        return form
    form = {
        "mode": str(local.mode),
        "title": local.title,
        "category": local.category,
        "tags": ", ".join(local.tags),
        "body_md": local.body_md,
        "agent_notes_md": local.agent_notes_md,
        "valid_from": local.valid_from.isoformat(),
        "valid_to": local.valid_to.isoformat() if local.valid_to else "",
        "expected_version": str(editing.current_version),
    }
    form.update({key: str(local.fields.get(key, "")) for key in FORM_FIELDS})
    return form


def rule_in(form: dict[str, str], editing) -> LocalRuleIn:
    """The form's values as a new version's content; ValidationError lists what is wrong."""
    fields = {key: form[key].strip() or None for key in FORM_FIELDS}
    return LocalRuleIn(
        mode=form["mode"],
        title=form["title"],
        category=form["category"],
        tags=[tag.strip() for tag in form["tags"].split(",") if tag.strip()],
        body_md=form["body_md"],
        agent_notes_md=form["agent_notes_md"],
        fields=fields,
        # The form does not edit sources: a new version cites what the newest one cited.
        sources=editing.local.sources if editing.local else [],
        valid_from=form["valid_from"] or None,
        valid_to=form["valid_to"] or None,
    )


def checked_rule_form(form: dict[str, str], editing) -> tuple[LocalRuleIn | None, dict[str, str]]:
    """The posted form as a version's content, or every problem with it: {field: Danish text},
    in the form's order (a problem that belongs to no field of the form under "")."""
    data, found = None, {}
    try:
        data = rule_in(form, editing)
    except ValidationError as exc:
        for error in exc.errors():
            field = _form_field(error["loc"])
            found.setdefault(field, _error_text(field, error["type"]))
    try:
        check_mode(form["mode"], has_national=editing.national is not None)
    except InvalidInput as exc:
        found.setdefault("mode", t(exc.key, **exc.params))
    errors = {field: found.pop(field) for field in FIELD_ORDER if field in found}
    if found:
        errors[""] = "; ".join(found.values())
    return (None if errors else data), errors


def _form_field(loc: tuple) -> str:
    """The form field a validation error's location points at ("fields.fee_dkk" is fee_dkk)."""
    names = [str(part) for part in loc if isinstance(part, str)]
    if names[:1] == ["fields"] and len(names) > 1:
        return names[1]
    return names[0] if names and names[0] in FIELD_ORDER else ""


def _error_text(field: str, kind: str) -> str:
    """The Danish text of a problem: by its kind, else by its field, else a generic one."""
    for key in (f"rules.admin.error.{kind}", f"rules.admin.error.field.{field}"):
        if key in catalogue():
            return t(key)
    return t("rules.admin.error.value", field=_field_label(field))


def _field_label(field: str) -> str:
    if field in FORM_FIELDS:
        return t(f"rules.field.{field}")
    return t(FORM_LABELS[field]) if field in FORM_LABELS else field
