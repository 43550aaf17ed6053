"""The header's menu: which links each role sees, in the order they are shown."""

from dataclasses import dataclass

from hotline.auth.models import Role, User

AGENT, SUPERVISOR = Role.AGENT, Role.SUPERVISOR
MUNICIPALITY_ADMIN, SYSTEM_ADMIN = Role.MUNICIPALITY_ADMIN, Role.SYSTEM_ADMIN
CALL_TAKERS = (AGENT, SUPERVISOR)
RULE_ADMINS = (MUNICIPALITY_ADMIN, SYSTEM_ADMIN)
OVERSEERS = (SUPERVISOR, SYSTEM_ADMIN)
ALL_BUT_AGENTS = (SUPERVISOR, SYSTEM_ADMIN, MUNICIPALITY_ADMIN)
# A longer menu gets a row of its own under the brand and the user (about seven links fit beside
# them at 1366 px); a short one, such as the agent's, leaves the console its height.
ONE_ROW_MAX_LINKS = 7


@dataclass(frozen=True)
class NavLink:
    """A menu link; `key` is what a page passes as `nav` to mark it as the current one."""

    key: str
    label: str  # a text key
    href: str


def _for(href: str, *roles: Role) -> dict[Role, str]:
    return dict.fromkeys(roles, href)


SURVEY_BY_ROLE = {
    AGENT: "/console/survey",
    MUNICIPALITY_ADMIN: "/admin/survey",
    SUPERVISOR: "/supervisor/survey",
    SYSTEM_ADMIN: "/supervisor/survey",
}
# (key, text key, where the link goes for each role that sees it)
MENU: list[tuple[str, str, dict[Role, str]]] = [
    ("console", "nav.console", _for("/console", *CALL_TAKERS)),
    ("rules", "nav.rules", _for("/admin/rules", *RULE_ADMINS)),
    ("reports", "nav.reports", _for("/supervisor", *OVERSEERS)),
    ("survey", "survey.nav", SURVEY_BY_ROLE),
    ("insight", "insight.nav", _for("/insight", *ALL_BUT_AGENTS)),
    ("cti", "cti.nav", _for("/admin/cti", SYSTEM_ADMIN)),
    ("users", "users.nav", _for("/admin/users", SYSTEM_ADMIN)),
    ("search", "synonyms.nav", _for("/admin/search", *RULE_ADMINS)),
    ("essentials", "essentials.nav", _for("/admin/essentials", *RULE_ADMINS)),
    ("callbacks", "callbacks.nav", _for("/admin/callbacks", *ALL_BUT_AGENTS)),
    ("archive", "archive.nav", _for("/arkiv", *ALL_BUT_AGENTS)),
    ("audit", "audit.nav", _for("/admin/audit", *OVERSEERS)),
]


@dataclass(frozen=True)
class Menu:
    """The links a role sees, and whether they get a row of their own."""

    links: list[NavLink]

    @property
    def own_row(self) -> bool:
        """True when the links are too many to share the row with the brand and the user."""
        return len(self.links) > ONE_ROW_MAX_LINKS


def header_menu(user: User) -> Menu:
    """The header's menu for the user's role."""
    role = Role(user.role)
    return Menu([NavLink(key, label, hrefs[role]) for key, label, hrefs in MENU if role in hrefs])
