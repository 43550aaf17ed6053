"""Benchmark: the rule store at national scale, on SQLite and PostgreSQL in the same run.

Quality: the development set of citizen queries (bench/data/search_queries_dev.tsv) against
the shipped knowledge base, hit@1 and hit@3 per kind for Aarhus (0751, local rules) and
Copenhagen (0101, none), and whether any "none" query gets a result above the weak-match line;
beside it the municipality picker's hit@1 and hit@3 on places as callers say them
(bench/data/places_as_callers_say.tsv).
Speed: 98 municipalities x 1,000 national topics with local rules for 30 % of the pairs
(bench/_rules_data.py). Search p50/p95 over 200+ distinct queries of every kind, each for a
random participating municipality, beside a floor measured in the same run: the database's own
full-text search of the same stored documents for the query's words (FTS5 MATCH ... ORDER BY
bm25 on SQLite, tsvector @@ to_tsquery ORDER BY ts_rank on PostgreSQL), one statement, without
typos, synonyms, compounds or ranking in Python. Resolve p50/p95 with the rule cache holding the
whole set. Resolve over HTTP on both databases beside a Starlette route that runs the same query
and returns pre-encoded bytes, with a lean load generator shown to be fast enough
(bench/_rules_http.py says what the floor is and why it is fair). The last line holds the headline
figures. PostgreSQL: $HOTLINE_BENCH_DATABASE_URL, else the throw-away server of
scripts/test-postgres (skipped, and said so, when PostgreSQL is not installed).

Run: .venv/bin/python -m bench.rules  (--http: only the store and the HTTP part)
"""

import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import snowballstemmer
from sqlalchemy import text

from hotline.db import make_engine, make_sessionmaker
from hotline.models import install_listeners
from hotline.rules.cache import prime
from hotline.rules.resolve import resolve_rule
from hotline.rules.search import search_topics

try:
    from bench import _rules_data as data
    from bench._rules_http import measure as measure_http
    from bench._rules_quality import print_quality, quality
    from bench._support import percentile, postgres_url
except ImportError:  # run as a script (bench/ itself is on sys.path)
    import _rules_data as data
    from _rules_http import measure as measure_http
    from _rules_quality import print_quality, quality
    from _support import percentile, postgres_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESOLVE_SAMPLES = 2000
COLD_SAMPLES = 300
SEARCH_ROUNDS = 2
TARGET_RESOLVE_P95_MS = 5.0
TARGET_SEARCH_P95_MS = 20.0


def _time_ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _stems(query: str) -> list[str]:
    from hotline.kit.danish import fold, words

    stemmer = snowballstemmer.stemmer("danish")
    return list(dict.fromkeys(fold(stemmer.stemWord(w)) for w in words(query)))


def floor_search(connection, dialect: str, query: str, code: str, on: date) -> list:
    """The database's own full-text search of the stored documents for the query's words."""
    terms = _stems(query) or ["x"]
    scope = ("national", f"m{code}")
    if dialect == "postgresql":
        tsquery = " | ".join("'" + t.replace("'", "''") + "'" for t in terms)
        sql = """
            SELECT d.topic_slug FROM rule_search_documents d,
                   to_tsquery('simple', :q) q
            WHERE d.tsv @@ q AND d.tsv @@ to_tsquery('simple', :scope)
              AND d.valid_from <= :on AND (d.valid_to IS NULL OR d.valid_to > :on)
            ORDER BY ts_rank(d.tsv, q) DESC LIMIT 20
        """
        params = {"q": tsquery, "scope": f"{scope[0]}.scope | {scope[1]}.scope", "on": on}
    else:
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        sql = """
            SELECT d.topic_slug FROM rule_search_fts
            JOIN rule_search_documents d ON d.id = rule_search_fts.rowid
            WHERE rule_search_fts MATCH :m
              AND d.valid_from <= :on AND (d.valid_to IS NULL OR d.valid_to > :on)
            ORDER BY bm25(rule_search_fts) LIMIT 20
        """
        cols = "{title_terms tags_terms body_terms notes_terms}"
        params = {"m": f'{cols} : ({match}) AND scope : ("{scope[0]}" OR "{scope[1]}")'}
        params["on"] = on.isoformat()
    return connection.execute(text(sql), params).all()


def speed(url: str, store: data.Store, queries: list[str]) -> dict:
    """resolve and search latencies in ms (a fresh session per call, as a request), and floors."""
    rng = random.Random(data.SEED + 3)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    on = date.today()

    def resolve_once() -> float:
        topic, code = rng.choice(store.slugs), rng.choice(store.codes)
        with sessions() as session:
            return _time_ms(
                lambda: resolve_rule(
                    session=session, topic_slug=topic, municipality_code=code, on=on
                )
            )

    def search_once(query: str, code: str) -> float:
        with sessions() as session:
            return _time_ms(
                lambda: search_topics(
                    session=session,
                    municipality_code=code,
                    query=query,
                    on=on,
                    verify_after_days=365,
                )
            )

    cold = [resolve_once() for _ in range(COLD_SAMPLES)]
    with sessions() as session:
        prime(session)
    first_search = search_once(queries[0], store.codes[0])  # reads the vocabulary
    pairs = [(q, rng.choice(store.codes)) for q in queries]
    for query, code in pairs:
        search_once(query, code)  # warm: typo look-ups and the database's pages
    searches, floors = [], []
    with engine.connect() as connection:
        for _ in range(SEARCH_ROUNDS):  # product and floor in turn: a slow spell hits both
            for query, code in pairs:
                searches.append(search_once(query, code))
                floors.append(
                    _time_ms(
                        lambda q=query, c=code: floor_search(
                            connection, engine.dialect.name, q, c, on
                        )
                    )
                )
    timings = {
        "resolve_cold": cold,
        "resolve": [resolve_once() for _ in range(RESOLVE_SAMPLES)],
        "search": searches,
        "floor": floors,
        "first_search": [first_search],
    }
    engine.dispose()
    return timings


def main() -> None:
    install_listeners()  # the product's ORM listeners, as its own processes have them
    only_http = "--http" in sys.argv[1:]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hotline-bench-rules-") as tmp_name:
        tmp = Path(tmp_name)
        databases = {"sqlite": f"sqlite:///{tmp / 'hotline.sqlite3'}"}
        if pg := postgres_url("hotline_bench_rules"):
            databases["pg"] = pg
        quality_urls = {"sqlite": f"sqlite:///{tmp / 'quality.sqlite3'}"}
        if not only_http and (pg_quality := postgres_url("hotline_bench_quality") if pg else None):
            quality_urls["pg"] = pg_quality
        hits = {} if only_http else {name: quality(url) for name, url in quality_urls.items()}
        start = time.perf_counter()
        store = data.build_stores(list(databases.values()))
        build_s = time.perf_counter() - start
        queries = data.bench_queries(store)
        timings = {} if only_http else {n: speed(u, store, queries) for n, u in databases.items()}
        served = measure_http(databases, tmp, store)
    loads = (load_before, os.getloadavg())
    if only_http:
        before, after = loads[0][0], loads[1][0]
        print(
            f"store built in {build_s:.0f} s; load average before/after: {before:.2f} / {after:.2f}"
        )
        print(_http_keys(served))
        return
    dev = print_quality(hits)
    print_speed(store, queries, build_s, timings, served, loads, dev)


def _http_keys(served: dict) -> str:
    ratios = served["ratios"]
    return (
        f"http_ratio_sqlite={ratios['sqlite']:.3f} "
        f"http_ratio_pg={ratios.get('pg', float('nan')):.3f} "
        f"http_client_margin={served['client']:.1f}"
    )


def print_speed(store, queries, build_s, timings, served, loads, dev) -> None:
    """The latency table and the headline line."""
    print(
        f"store: {len(store.slugs)} national topics, {store.local_rules} local rules, 98 "
        f"municipalities ({len(store.codes)} participating); built in {build_s:.0f} s "
        f"into {', '.join(timings)}; {len(queries)} distinct queries x {SEARCH_ROUNDS} rounds"
    )
    print(f"{'name':<34} {'value':>10} {'target':>8} {'ok?':>6}")
    headline = {}
    for db, found in timings.items():
        p = {k: (percentile(v, 50), percentile(v, 95)) for k, v in found.items()}
        rows = [
            (f"{db} search p50 (ms)", p["search"][0], None),
            (f"{db} search p95 (ms)", p["search"][1], TARGET_SEARCH_P95_MS),
            (f"{db} floor search p50 (ms)", p["floor"][0], None),
            (f"{db} floor search p95 (ms)", p["floor"][1], None),
            (f"{db} search/floor p95 ratio", p["search"][1] / p["floor"][1], None),
            (f"{db} first search (vocabulary, ms)", p["first_search"][0], None),
            (f"{db} resolve p50 (ms)", p["resolve"][0], None),
            (f"{db} resolve p95 (ms)", p["resolve"][1], TARGET_RESOLVE_P95_MS),
            (f"{db} resolve cold p95 (ms)", p["resolve_cold"][1], None),
        ]
        for name, value, target in rows:
            ok = "" if target is None else ("ok" if value <= target else "MISS")
            shown = "" if target is None else f"<= {target:g}"
            print(f"{name:<34} {value:>10.2f} {shown:>8} {ok:>6}")
        headline[db] = p
    print(f"load average before/after: {loads[0][0]:.2f} / {loads[1][0]:.2f}")
    pg = headline.get("pg")
    print(
        f"search_p95_ms_sqlite={headline['sqlite']['search'][1]:.2f} "
        f"search_p95_ms_pg={pg['search'][1] if pg else float('nan'):.2f} "
        f"resolve_p95_ms={max(p['resolve'][1] for p in headline.values()):.2f} "
        f"hit3_dev={dev[0]:.3f} hit1_dev={dev[1]:.3f} {_http_keys(served)}"
    )


if __name__ == "__main__":
    main()
