"""The search on the shipped knowledge base, measured on the development set of citizen queries.

The same targets as bench/rules.py: hit@3 at least 95 % and hit@1 at least 85 %, for Aarhus
(local rules) and Copenhagen (none), and no "none" query answered above the weak-match line.
"""

import csv
from collections import Counter
from pathlib import Path

from hotline.config import PROJECT_ROOT
from hotline.rules.importer import import_rules
from tests.rules.conftest import search_rules

DEV_SET = PROJECT_ROOT / "bench" / "data" / "search_queries_dev.tsv"
LOCAL_ONLY = {"affald-storskrald": {"0630", "0751"}}


def _rows() -> list[dict]:
    with open(DEV_SET, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_the_development_set_meets_its_targets(session):
    import_rules(session=session, directory=Path(PROJECT_ROOT) / "kb_rules")
    session.commit()
    for code in ("0751", "0101"):
        counts, confident_none, misses = Counter(), [], []
        for row in _rows():
            expected = set(filter(None, row["expect_slugs"].split("|")))
            if any(code not in LOCAL_ONLY.get(slug, {code}) for slug in expected):
                continue
            hits = search_rules(session=session, municipality_code=code, query=row["query"])
            slugs = [hit.slug for hit in hits]
            if not expected:
                confident_none += [row["query"] for hit in hits if not hit.weak][:1]
                continue
            counts["asked"] += 1
            counts["hit1"] += bool(expected & set(slugs[:1]))
            counts["hit3"] += bool(expected & set(slugs[:3]))
            if not expected & set(slugs[:3]):
                misses.append((row["query"], slugs[:3]))
        assert counts["hit3"] / counts["asked"] >= 0.95, (code, counts, misses)
        assert counts["hit1"] / counts["asked"] >= 0.85, (code, counts)
        assert confident_none == [], code
