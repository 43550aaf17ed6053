"""The quality half of bench/rules.py: the development set and the places, on each database."""

import csv
import json
from collections import defaultdict
from datetime import date

from hotline.db import make_engine, make_sessionmaker
from hotline.rules.search import search_topics

try:
    from bench import _rules_data as data
except ImportError:  # run as a script (bench/ itself is on sys.path)
    import _rules_data as data

TARGET_HIT3, TARGET_HIT1 = 0.95, 0.85
QUALITY_CODES = ("0751", "0101")
LOCAL_ONLY = {"affald-storskrald": {"0630", "0751"}}


def quality(url: str) -> dict:
    """Hit rates of the development set on the shipped knowledge base, per municipality."""
    from hotline.migrate import upgrade_database
    from hotline.municipalities.service import load_municipalities
    from hotline.rules.importer import import_rules

    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        load_municipalities(session=session)
        import_rules(session=session, directory=data.KB_RULES)
        session.commit()
    found: dict = {}
    with sessions() as session:
        for code in QUALITY_CODES:
            kinds: dict = defaultdict(lambda: [0, 0, 0])
            for row in data.dev_queries():
                expected = set(filter(None, row["expect_slugs"].split("|")))
                if any(code not in LOCAL_ONLY.get(slug, {code}) for slug in expected):
                    continue  # a local-only topic this municipality does not have
                result = search_topics(
                    session=session,
                    municipality_code=code,
                    query=row["query"],
                    on=date.today(),
                    verify_after_days=365,
                )
                slugs = [hit.slug for hit in result.hits]
                counts = kinds[row["kind"]]
                counts[0] += 1
                if expected:
                    counts[1] += bool(expected & set(slugs[:1]))
                    counts[2] += bool(expected & set(slugs[:3]))
                else:  # right when nothing above the weak-match line is offered
                    confident = any(not hit.weak for hit in result.hits)
                    counts[1] += not confident
                    counts[2] += not confident
            found[code] = dict(kinds)
        found["places"] = _picker_hits(session)
    engine.dispose()
    return found


def _picker_hits(session) -> dict:
    from hotline.municipalities.service import search_municipalities

    kinds: dict = defaultdict(lambda: [0, 0, 0])
    with open(data.PLACES, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            expected = set(row["expect_codes"].split("|"))
            found = search_municipalities(session=session, query=row["query"], limit=3)
            codes = [m.municipality.code for m in found]
            counts = kinds[row["kind"]]
            counts[0] += 1
            counts[1] += bool(expected & set(codes[:1]))
            counts[2] += bool(expected & set(codes[:3]))
    return dict(kinds)


def _rates(kinds: dict) -> tuple[float, float]:
    asked = sum(v[0] for k, v in kinds.items() if k != "none")
    return (
        sum(v[2] for k, v in kinds.items() if k != "none") / asked,
        sum(v[1] for k, v in kinds.items() if k != "none") / asked,
    )


def print_quality(hits: dict) -> tuple[float, float]:
    """Hit rates per kind and database; (hit@3, hit@1) of both municipalities together."""
    print("quality: development set on the shipped knowledge base (hit@1 / hit@3 / queries)")
    names = list(hits)
    header = "".join(f"{f'{db} {code}':>22}" for db in names for code in QUALITY_CODES)
    print(f"{'kind':<12}{header}")
    kinds = sorted({k for db in hits.values() for c in QUALITY_CODES for k in db[c]})
    for kind in kinds:
        cells = ""
        for db in names:
            for code in QUALITY_CODES:
                n, hit1, hit3 = hits[db][code].get(kind, [0, 0, 0])
                cells += f"{f'{hit1}/{hit3}/{n}':>22}"
        print(f"{kind:<12}{cells}")
    for db in names:
        for code in QUALITY_CODES:
            hit3, hit1 = _rates(hits[db][code])
            none = hits[db][code].get("none", [0, 0, 0])
            print(
                f"{db} {code}: hit@3 {hit3:.3f} (target {TARGET_HIT3}), hit@1 {hit1:.3f} "
                f"(target {TARGET_HIT1}); 'none' queries without a confident result: "
                f"{none[1]}/{none[0]}"
            )
    for db in names:
        places = hits[db]["places"]
        asked = sum(v[0] for v in places.values())
        print(
            f"{db} municipality picker: hit@3 {sum(v[2] for v in places.values()) / asked:.3f}, "
            f"hit@1 {sum(v[1] for v in places.values()) / asked:.3f} over {asked} places "
            f"({', '.join(f'{k} {v[2]}/{v[0]}' for k, v in sorted(places.items()))})"
        )
    if len({json.dumps(found, sort_keys=True) for found in hits.values()}) > 1:
        print("NOTE: the databases' hit rates differ")
    together: dict = defaultdict(lambda: [0, 0, 0])
    for code in QUALITY_CODES:
        for kind, counts in hits["sqlite"][code].items():
            together[kind] = [a + b for a, b in zip(together[kind], counts, strict=True)]
    return _rates(together)
