"""Benchmark: the layered rule store at scale; prints a table (not a timed test).

A synthetic store of 300 national topics and local rules for 30% of topic x participating
municipality pairs (50 participating). Measures in-process resolve_rule and search_rules latency
(p50, p95; resolve warm, as the server keeps its rule cache, and cold, as a first read) and
resolve throughput over HTTP beside a bare FastAPI JSON endpoint served the same way (uvicorn
subprocesses, one worker each, loopback, in alternating rounds). The last line holds the
headline figures.

Run: .venv/bin/python bench/rules.py
"""

import contextlib
import json
import random
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select, update

from hotline.auth.models import Role
from hotline.auth.service import create_user, issue_api_token
from hotline.db import make_engine, make_sessionmaker
from hotline.migrate import upgrade_database
from hotline.municipalities.models import Municipality
from hotline.municipalities.service import load_municipalities
from hotline.rules.cache import prime
from hotline.rules.models import Rule, RuleMode, RuleVersion
from hotline.rules.resolve import resolve_rule, search_rules
from hotline.rules.search import reindex_all

try:
    from bench._support import LoadResult, Server, drive, percentile
except ImportError:  # run as a script (bench/ itself is on sys.path)
    from _support import LoadResult, Server, drive, percentile

SEED = 20261123
TOPICS = 300
PARTICIPATING = 50
LOCAL_SHARE = 0.30
RESOLVE_SAMPLES = 2000
COLD_SAMPLES = 300
SEARCH_SAMPLES = 300
HTTP_SECONDS = 2.0
HTTP_ROUNDS = 4
HTTP_WORKERS = 4
TARGET_RESOLVE_P95_MS = 5.0
TARGET_SEARCH_P95_MS = 20.0
TARGET_HTTP_RATIO = 0.5

SUBJECTS = [
    ("Parkeringstilladelse", "Trafik og veje"),
    ("Boligstøtte", "Bolig"),
    ("Affaldsafhentning", "Affald og genbrug"),
    ("Storskrald", "Affald og genbrug"),
    ("Byggetilladelse", "Byggeri"),
    ("Pas", "Borgerservice"),
    ("Kørekort", "Borgerservice"),
    ("Sundhedskort", "Sundhed"),
    ("Flytning", "Borgerservice"),
    ("Daginstitution", "Børn og familie"),
    ("Skolestart", "Børn og familie"),
    ("Fritidsordning", "Børn og familie"),
    ("Hjemmehjælp", "Ældre og pleje"),
    ("Madordning", "Ældre og pleje"),
    ("Hjælpemidler", "Handicap"),
    ("Ledighedsydelse", "Job og ydelser"),
    ("Kontanthjælp", "Job og ydelser"),
    ("Sygedagpenge", "Job og ydelser"),
    ("Folkepension", "Pension"),
    ("Ejendomsskat", "Skat og betaling"),
    ("Vejnavne", "Trafik og veje"),
    ("Vinterberedskab", "Trafik og veje"),
    ("Hundeafgift", "Dyr og natur"),
    ("Skadedyr", "Dyr og natur"),
    ("Digital Post", "Digitalisering"),
    ("MitID", "Digitalisering"),
    ("Navnebeskyttelse", "Borgerservice"),
    ("Begravelseshjælp", "Borgerservice"),
    ("Vielse", "Borgerservice"),
    ("Kollektiv trafik", "Trafik og veje"),
]
QUALIFIERS = [
    "ansøgning",
    "ændring",
    "fornyelse",
    "klage",
    "gebyr",
    "frister",
    "for pensionister",
    "for studerende",
    "ved flytning",
    "i weekender",
]
_TEXT = (
    "borgeren kommunen ansøgning skal indsendes digitalt via borger.dk inden fristen udløber "
    "sagsbehandlingstiden er normalt fire uger og afgørelsen sendes i digital post hvis du "
    "ikke kan bruge mitid kan du møde op i borgerservice med gyldigt billedlegitimation "
    "gebyret betales ved bestilling og refunderes ikke der gælder særlige regler for "
    "pensionister studerende og personer med handicap kontakt kommunen for vejledning om "
    "dokumentation lejekontrakt indkomst husstand adresse cpr-nummer bopæl folkeregister "
    "genbrugsplads sortering restaffald madaffald papir pap glas metal plast farligt affald "
    "tilskud ydelse udbetaling partshøring klagevejledning ankestyrelsen lovgivning "
    "tidsbestilling åbningstider telefontid selvbetjening kvittering bilag underskrift"
)
WORDS = _TEXT.split()
QUERIES = [
    "parkering",
    "boligstøtte",
    "gebyr",
    "mitid",
    "digital post",
    "pensionister",
    "ankestyrelsen",
    "genbrugsplads",
    "affald",
    "borger.dk",
    "frist",
    "fire uger",
    "hjemmehjælp",
    "kørekort",
    "pas",
    "lejekontrakt",
    "klage",
    "kvittering",
    "åbningstider",
    "ingen-træf-her",
]
LOCAL_MODES = [RuleMode.REPLACE, RuleMode.APPEND, RuleMode.NOT_OFFERED]
LOCAL_MODE_WEIGHTS = [0.40, 0.45, 0.15]


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 16))
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 6)))


def _body(rng: random.Random, title: str) -> str:
    parts = [f"## {title}", _paragraph(rng), _paragraph(rng)]
    parts.append("\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(2, 4))))
    parts.append(_paragraph(rng) + " Læs mere på [borger.dk](https://www.borger.dk).")
    return "\n\n".join(parts)


def _fields(rng: random.Random) -> dict:
    fields = {
        "fee_dkk": rng.choice([0, 150, 325, 627, 891, 1250]),
        "deadline": rng.choice(["2 uger", "4 uger", "30 dage", "3 måneder"]),
        "legal_basis": f"Lov nr. {rng.randint(100, 1999)} § {rng.randint(1, 90)}",
    }
    if rng.random() < 0.5:
        fields["self_service_url"] = "https://www.borger.dk/selvbetjening"
    return fields


def _version_row(rng: random.Random, **values) -> dict:
    title = values.pop("title")
    return {
        "title": title,
        "tags": rng.sample(WORDS, k=rng.randint(2, 5)),
        "body_md": _body(rng, title),
        "agent_notes_md": _paragraph(rng) if rng.random() < 0.6 else "",
        "fields": _fields(rng),
        "sources": [{"title": "Borger.dk", "url": "https://www.borger.dk"}],
        "author_name": "Bench Generator",
        **values,
    }


def build_store(url: str) -> tuple[list[str], list[str], str, int]:
    """Migrate and fill the database; returns (slugs, participating codes, token, local count)."""
    rng = random.Random(SEED)
    upgrade_database(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        load_municipalities(session=session)
        codes = sorted(session.scalars(select(Municipality.code)))
        participating = sorted(rng.sample(codes, PARTICIPATING))
        session.execute(
            update(Municipality)
            .where(Municipality.code.in_(participating))
            .values(participating=True)
        )
        user = create_user(
            session=session,
            username="bench-agent",
            full_name="Bench Agent",
            password="bench-password-123456",
            role=Role.AGENT,
        )
        token = issue_api_token(session=session, user=user, name="bench")

        rules, versions, slugs, current = [], [], [], {}
        v1_from, v2_from = date(2020, 1, 1), date(2025, 1, 1)
        for n in range(TOPICS):
            subject, category = SUBJECTS[n % len(SUBJECTS)]
            qualifier = QUALIFIERS[n // len(SUBJECTS) % len(QUALIFIERS)]
            title = f"{subject} – {qualifier}"
            slug = f"emne-{n:03d}-{subject.lower().replace(' ', '-')}"
            rule_id = n + 1
            slugs.append(slug)
            # A third of the topics have a second national version (so some locals are stale).
            current[slug] = 2 if rng.random() < 1 / 3 else 1
            rules.append(
                {
                    "id": rule_id,
                    "topic_slug": slug,
                    "municipality_code": None,
                    "current_version": current[slug],
                }
            )
            for version in range(1, current[slug] + 1):
                last = version == current[slug]
                versions.append(
                    _version_row(
                        rng,
                        rule_id=rule_id,
                        version=version,
                        mode=RuleMode.NATIONAL.value,
                        title=title,
                        category=category,
                        valid_from=v1_from if version == 1 else v2_from,
                        valid_to=None if last else v2_from,
                        based_on_national_version=None,
                    )
                )
        rule_id = len(rules)
        for slug in slugs:
            for code in participating:
                if rng.random() >= LOCAL_SHARE:
                    continue
                rule_id += 1
                mode = rng.choices(LOCAL_MODES, LOCAL_MODE_WEIGHTS)[0]
                rules.append(
                    {
                        "id": rule_id,
                        "topic_slug": slug,
                        "municipality_code": code,
                        "current_version": 1,
                    }
                )
                versions.append(
                    _version_row(
                        rng,
                        rule_id=rule_id,
                        version=1,
                        mode=mode.value,
                        title=f"Lokalt: {slug}" if mode != RuleMode.APPEND else "",
                        category="",
                        valid_from=date(2024, 1, 1),
                        valid_to=None,
                        based_on_national_version=rng.randint(1, current[slug]),
                    )
                )
        session.execute(insert(Rule), rules)
        session.execute(insert(RuleVersion), versions)
        # Bulk inserts bypass the service layer, so the search index is built in one go.
        reindex_all(session=session)
        session.commit()
    engine.dispose()
    return slugs, participating, token, len(rules) - TOPICS


def _time_ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def bench_in_process(url: str, slugs: list[str], codes: list[str]) -> dict[str, list[float]]:
    """resolve_rule and search_rules latencies in ms, a fresh session per call (as a request)."""
    rng = random.Random(SEED + 1)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    on = date.today()

    def resolve_once() -> float:
        topic, code = rng.choice(slugs), rng.choice(codes)
        with sessions() as session:
            return _time_ms(
                lambda: resolve_rule(
                    session=session, topic_slug=topic, municipality_code=code, on=on
                )
            )

    def search_once() -> float:
        query, code = rng.choice(QUERIES), rng.choice(codes)
        with sessions() as session:
            return _time_ms(
                lambda: search_rules(session=session, municipality_code=code, query=query, on=on)
            )

    # Cold: rules read and rendered on first use, as right after a change to them.
    cold = [resolve_once() for _ in range(COLD_SAMPLES)]
    # Then warm, as the server is: it fills the rule cache at start-up.
    with sessions() as session:
        prime(session)
    for _ in range(100):
        resolve_once()
    for _ in range(10):
        search_once()
    timings = {
        "resolve_cold": cold,
        "resolve": [resolve_once() for _ in range(RESOLVE_SAMPLES)],
        "search": [search_once() for _ in range(SEARCH_SAMPLES)],
    }
    engine.dispose()
    return timings


def sample_payload(url: str, slug: str, code: str) -> dict:
    """A resolved rule as JSON (the bare endpoint returns a dict of this size)."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        resolved = resolve_rule(session=session, topic_slug=slug, municipality_code=code)
        payload = resolved.model_dump(mode="json")
    engine.dispose()
    return payload


def bench_http(url: str, tmp: Path, slugs: list[str], codes: list[str], token: str) -> dict:
    """Requests/s of GET /api/rules/resolve and of bare endpoints, same server and client."""
    rng = random.Random(SEED + 2)
    pairs = [(rng.choice(slugs), rng.choice(codes)) for _ in range(50_000)]

    def request(path: str):
        def next_request(i: int) -> tuple[str, dict]:
            topic, code = pairs[i % len(pairs)]
            return path, {"municipality": code, "topic": topic}

        return next_request

    payload_file = tmp / "payload.json"
    payload = sample_payload(url, *pairs[0])
    payload_file.write_text(json.dumps(payload), encoding="utf-8")
    options = {"workers": HTTP_WORKERS, "seconds": HTTP_SECONDS}
    results = {"payload_bytes": len(json.dumps(payload).encode())}
    runs = {
        "real": (request("/api/rules/resolve"), {"Authorization": f"Bearer {token}"}),
        "bare-sync": (request("/api/bare"), None),
        "bare-async": (request("/api/bare"), None),
    }
    with contextlib.ExitStack() as stack:
        servers = {
            "real": stack.enter_context(Server("real", url, ready_path="/healthz")),
            "bare-sync": stack.enter_context(Server("bare-sync", str(payload_file), "/api/bare")),
            "bare-async": stack.enter_context(Server("bare-async", str(payload_file), "/api/bare")),
        }
        # Rounds, each server in turn: a slow spell on a noisy machine hits all of them alike.
        rounds = {kind: [] for kind in runs}
        for _ in range(HTTP_ROUNDS):
            for kind, (next_request, headers) in runs.items():
                result = drive(servers[kind].base_url, next_request, headers=headers, **options)
                rounds[kind].append(result)
    for kind, parts in rounds.items():
        results[kind] = LoadResult(
            sum(r.requests for r in parts),
            sum(r.errors for r in parts),
            sum(r.seconds for r in parts),
        )
    results["round_ratios"] = [
        real.per_second / bare.per_second if bare.per_second else 0.0
        for real, bare in zip(rounds["real"], rounds["bare-sync"], strict=True)
    ]
    return results


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-rules-") as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp / 'hotline.sqlite3'}"
        start = time.perf_counter()
        slugs, codes, token, local_count = build_store(url)
        build_s = time.perf_counter() - start
        timings = bench_in_process(url, slugs, codes)
        http = bench_http(url, tmp, slugs, codes, token)

    resolve_p50, resolve_p95 = (percentile(timings["resolve"], p) for p in (50, 95))
    search_p50, search_p95 = (percentile(timings["search"], p) for p in (50, 95))
    cold_p50, cold_p95 = (percentile(timings["resolve_cold"], p) for p in (50, 95))
    real, bare, bare_async = http["real"], http["bare-sync"], http["bare-async"]
    ratio = real.per_second / bare.per_second if bare.per_second else 0.0
    ratio_async = real.per_second / bare_async.per_second if bare_async.per_second else 0.0

    print(
        f"store: {TOPICS} national topics, {local_count} local rules, {len(codes)} participating "
        f"municipalities; built in {build_s:.1f} s"
    )
    print(
        f"http: {HTTP_WORKERS} client threads, {HTTP_ROUNDS} rounds x {HTTP_SECONDS:.0f} s per "
        f"server, uvicorn 1 worker on 127.0.0.1; bare payload {http['payload_bytes']} bytes; "
        f"ratio per round {', '.join(f'{r:.2f}' for r in http['round_ratios'])}"
    )
    rows = [
        ("resolve p50 (ms)", f"{resolve_p50:.2f}", "", ""),
        ("resolve p95 (ms)", f"{resolve_p95:.2f}", f"<= {TARGET_RESOLVE_P95_MS:g}", None),
        ("resolve cold p50 (ms)", f"{cold_p50:.2f}", "", ""),
        ("resolve cold p95 (ms)", f"{cold_p95:.2f}", "", ""),
        ("search p50 (ms)", f"{search_p50:.2f}", "", ""),
        ("search p95 (ms)", f"{search_p95:.2f}", f"<= {TARGET_SEARCH_P95_MS:g}", None),
        ("http resolve (req/s)", f"{real.per_second:.1f}", "", _errors(real)),
        ("http bare sync def (req/s)", f"{bare.per_second:.1f}", "", _errors(bare)),
        ("http bare async def (req/s)", f"{bare_async.per_second:.1f}", "", _errors(bare_async)),
        ("http ratio (resolve/bare sync)", f"{ratio:.2f}", f">= {TARGET_HTTP_RATIO:g}", None),
        ("http ratio (resolve/bare async)", f"{ratio_async:.2f}", "", ""),
    ]
    checks = {
        "resolve p95 (ms)": resolve_p95 <= TARGET_RESOLVE_P95_MS,
        "search p95 (ms)": search_p95 <= TARGET_SEARCH_P95_MS,
        "http ratio (resolve/bare sync)": ratio >= TARGET_HTTP_RATIO,
    }
    print(f"{'name':<32} {'value':>10} {'target':>8} {'ok?':>6}")
    for name, value, target, ok in rows:
        if ok is None:
            ok = "ok" if checks[name] else "MISS"
        print(f"{name:<32} {value:>10} {target:>8} {ok:>6}")
    print(f"resolve_p95_ms={resolve_p95:.2f} search_p95_ms={search_p95:.2f} http_ratio={ratio:.2f}")


def _errors(result) -> str:
    return f"{result.errors} err" if result.errors else ""


if __name__ == "__main__":
    main()
