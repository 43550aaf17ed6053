"""The demo data `make run` loads: municipalities, rules, users, contact reasons, cost rate."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.auth.models import Role, User
from hotline.auth.service import create_user
from hotline.config import Settings
from hotline.municipalities.demo_lines import demo_dialled_number
from hotline.municipalities.essentials_file import load_essentials
from hotline.municipalities.models import Municipality
from hotline.municipalities.service import load_municipalities

# The demo hotline serves the municipalities of Jutland and Funen (the three western regions):
# 52 municipalities, close to the real Digital Hotline's "nearly 50".
PARTICIPATING_REGIONS = {"1081", "1082", "1083"}

DEMO_USERS = [
    ("agent", "Mette Hansen", Role.AGENT, ()),
    ("supervisor", "Lars Nielsen", Role.SUPERVISOR, ()),
    ("admin-aarhus", "Sofie Jensen", Role.MUNICIPALITY_ADMIN, ("0751",)),
    ("admin-aalborg", "Peter Larsen", Role.MUNICIPALITY_ADMIN, ("0851",)),
    ("sysadmin", "Hanne Madsen", Role.SYSTEM_ADMIN, ()),
]


def load_demo(*, session: Session, settings: Settings) -> list[str]:
    """Load everything the demo needs; safe to run again. Returns a summary, line by line."""
    from hotline.calls.service import seed_contact_reasons
    from hotline.reports.service import ensure_default_cost_rate
    from hotline.reports.synthetic_calls import add_demo_call_history
    from hotline.rules.importer import import_rules

    count = load_municipalities(session=session)
    participating = _mark_participating(session=session)
    rules_summary = import_rules(session=session, directory=settings.kb_rules_dir)
    seed_contact_reasons(session=session)
    ensure_default_cost_rate(session=session)
    created = _create_demo_users(session=session, password=settings.demo_password)
    essentials = load_essentials(session=session, only_missing=True)
    _give_demo_admins_email(session=session)
    history = add_demo_call_history(session)
    return [
        f"{count} municipalities, {participating} participating",
        f"rules: {rules_summary}",
        f"Borgerservice essentials loaded: {len(essentials)} (municipalities with hours are kept)",
        f"demo users created: {', '.join(created) if created else 'none (already there)'}",
        f"demo call history: {history} calls added" if history else "demo call history: kept",
    ]


def _mark_participating(*, session: Session) -> int:
    municipalities = session.scalars(select(Municipality)).all()
    for m in municipalities:
        m.participating = m.region_code in PARTICIPATING_REGIONS
        m.dialled_number = demo_dialled_number(m.code) if m.participating else None
        if m.participating and not m.web:
            slug = (
                m.short_name.lower()
                .replace(" ", "")
                .replace("æ", "ae")
                .replace("ø", "oe")
                .replace("å", "aa")
                .replace("-", "")
            )
            m.web = f"https://www.{slug}.dk"
    session.flush()
    return sum(m.participating for m in municipalities)


def _create_demo_users(*, session: Session, password: str) -> list[str]:
    created = []
    for username, full_name, role, codes in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(
                session=session,
                username=username,
                full_name=full_name,
                password=password,
                role=role,
                municipality_codes=codes,
                is_demo=True,
            )
            created.append(username)
    return created


# Callbacks are e-mailed to a municipality's admins; the demo admins get fictitious addresses.
DEMO_ADMIN_EMAILS = {
    "admin-aarhus": "admin-aarhus@aarhus.example",
    "admin-aalborg": "admin-aalborg@aalborg.example",
}


def _give_demo_admins_email(*, session: Session) -> None:
    for user in session.scalars(select(User).where(User.username.in_(DEMO_ADMIN_EMAILS))):
        if user.is_demo and not user.email:
            user.email = DEMO_ADMIN_EMAILS[user.username]
    session.flush()
