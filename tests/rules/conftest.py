"""Helpers for the rules tests: write rule files into a temporary kb_rules directory."""

from datetime import date
from pathlib import Path

import pytest
import yaml

from hotline.rules.importer import import_rules

SOURCE = [{"url": "https://www.borger.dk/", "verified": date(2026, 1, 5)}]


def write_rule(
    root: Path, relative: str, body: str = "Borgerteksten.", notes: str = "", **front
) -> Path:
    """Write one rule file (front matter from keyword arguments) under root."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    front.setdefault("topic", path.stem)
    front.setdefault("valid_from", date(2026, 1, 1))
    if relative.startswith("national/"):
        front.setdefault("title", f"Titel {path.stem}")
        front.setdefault("category", "Kategori")
        front.setdefault("sources", SOURCE)
    text = f"---\n{yaml.safe_dump(front, allow_unicode=True)}---\n{body}\n"
    if notes:
        text += f"\n## Noter til medarbejderen\n\n{notes}\n"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """An empty kb_rules directory."""
    root = tmp_path / "kb_rules"
    (root / "national").mkdir(parents=True)
    (root / "local").mkdir()
    return root


@pytest.fixture
def imported(session, kb):
    """Import kb into the test database and commit: imported() -> ImportSummary."""

    def run():
        summary = import_rules(session=session, directory=kb)
        session.commit()
        return summary

    return run


def search_rules(*, session, municipality_code: str, query: str, on: date | None = None):
    """The hits of a rule search, as the console gets them."""
    from hotline.rules.resolve import today_in_denmark
    from hotline.rules.search import search_topics

    return search_topics(
        session=session,
        municipality_code=municipality_code,
        query=query,
        on=on or today_in_denmark(),
        verify_after_days=365,
    ).hits
