"""Benchmark: render letters of growing length to PDF and print a table (not a timed test).

Run: .venv/bin/python bench/letters.py
"""

import statistics
import time
from datetime import date
from pathlib import Path

from hotline.config import PROJECT_ROOT
from hotline.letters.letterheads import Letterhead, _load
from hotline.letters.render import CitedRule, LetterContent, render_letter_pdf


def sample_letter(paragraphs: int, rules: int) -> LetterContent:
    """A letter with the given number of body paragraphs and cited rules."""
    body = "\n\n".join(f"Afsnit {n}: " + "Forklaring om reglerne. " * 12 for n in range(paragraphs))
    cited = [
        CitedRule(
            topic=f"emne-{n}",
            title=f"Regel {n}",
            sections_md=["Teksten til reglen. " * 10],
            fields={"fee_dkk": 891, "deadline": "3 uger", "legal_basis": "Lov § 1"},
        )
        for n in range(rules)
    ]
    return LetterContent(
        municipality_name="Aarhus Kommune",
        reference="HL-2026-000001",
        letter_date=date(2026, 11, 23),
        subject="Svar på din henvendelse",
        body_md=body,
        recipient_name="Søren Østergård",
        recipient_address="Åboulevarden 12\n8000 Aarhus C",
        author_name="Karen Ærbødig",
        cited=cited,
    )


def main() -> None:
    letterhead: Letterhead = _load(
        Path(PROJECT_ROOT / "letterheads/0751/letterhead.toml"), code="0751"
    )
    render_letter_pdf(sample_letter(1, 0), letterhead)  # warm-up: font loading, imports
    print(f"{'paragraphs':>10} {'rules':>5} {'median ms':>10} {'max ms':>8} {'KiB':>6}")
    for paragraphs, rules in ((2, 1), (10, 3), (40, 6), (65, 12)):  # 65 ≈ the size limit
        letter = sample_letter(paragraphs, rules)
        timings, size = [], 0
        for _ in range(5):
            start = time.perf_counter()
            size = len(render_letter_pdf(letter, letterhead))
            timings.append((time.perf_counter() - start) * 1000)
        print(
            f"{paragraphs:>10} {rules:>5} {statistics.median(timings):>10.0f} "
            f"{max(timings):>8.0f} {size / 1024:>6.0f}"
        )


if __name__ == "__main__":
    main()
