"""Rules over HTTP: the real resolve route beside a Starlette floor, on each database, in rounds.

The floor is one Starlette route, GET /api/rules/resolve?municipality=&topic=, that runs per
request the one query the product's resolve runs once its rule cache is warm: the freshness check
of that cache (hotline.rules.cache._TOPIC_STATE, which rules apply to the topic in the municipality
and at which version), on a pooled connection of the same engine (hotline.db.make_engine), in the
thread pool through run_in_threadpool as a competent Starlette app would keep a blocking driver
off the event loop. It checks the code's four digits and answers 404 for an unknown municipality,
and returns a resolved rule's JSON encoded once at start. So it does the same database work and
the same trip to the thread pool, served by the same uvicorn settings in one process, and leaves
out only what the product adds on top: FastAPI's parameter handling, the bearer token check,
middleware, the session's life and, for a state of the rules it has not answered before, building
the resolved rule's JSON. The product keeps that JSON per state (hotline/rules/resolved_json.py),
so after the warm-up it too mostly sends bytes encoded earlier, as the floor always does.
The load generator (bench/_http_load.py) is first driven against a plain ASGI app returning fixed
bytes and must reach 5x the fastest floor's rate, so that neither figure is the client's limit.
"""

import json
import random
import statistics
from pathlib import Path
from urllib.parse import urlencode

try:
    from bench import _rules_data as data
    from bench._http_load import Run, get_requests, load
    from bench._support import HOST, Server
except ImportError:  # run as a script (bench/ itself is on sys.path)
    import _rules_data as data
    from _http_load import Run, get_requests, load
    from _support import HOST, Server

ROUNDS = 5
SECONDS = 3.0
CONNECTIONS = 8
DISTINCT_REQUESTS = 4000
WARMUP_S = 4.0  # before the first round: the product encodes each resolved rule on first use
CLIENT_MARGIN = 5.0
TARGET_RATIO = 0.5


def floor_app(url: str, body: bytes):
    """The Starlette floor described in this module's docstring."""
    import contextlib

    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    from starlette.routing import Route

    from hotline.db import make_engine
    from hotline.rules.cache import _TOPIC_STATE

    engine = make_engine(url)

    def state_rows(topic: str, code: str) -> list:
        with engine.connect() as connection:
            return connection.execute(_TOPIC_STATE, {"topic": topic, "code": code}).all()

    async def resolve(request) -> Response:
        code = request.query_params.get("municipality", "")
        topic = request.query_params.get("topic", "")
        if len(code) != 4 or not code.isdigit() or not topic or len(topic) > 100:
            return Response(b'{"detail":"invalid"}', 422, media_type="application/json")
        if not await run_in_threadpool(state_rows, topic, code):
            return Response(b'{"detail":"not found"}', 404, media_type="application/json")
        return Response(body, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        engine.dispose()

    return Starlette(routes=[Route("/api/rules/resolve", resolve)], lifespan=lifespan)


def serve_floor(arg: str):
    """The floor app for a JSON file holding the database URL and the response body."""
    spec = json.loads(Path(arg).read_text(encoding="utf-8"))
    return floor_app(spec["url"], spec["body"].encode())


def _pairs(store: data.Store) -> list[tuple[str, str]]:
    rng = random.Random(data.SEED + 4)
    return [(rng.choice(store.slugs), rng.choice(store.codes)) for _ in range(DISTINCT_REQUESTS)]


def _resolved_json(url: str, topic: str, code: str) -> str:
    from hotline.db import make_engine, make_sessionmaker
    from hotline.rules.resolve import resolve_rule

    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        resolved = resolve_rule(session=session, topic_slug=topic, municipality_code=code)
    engine.dispose()
    return resolved.model_dump_json()


def _drive(server: Server, targets: list[str], headers=None, warmup_s: float = 0.5) -> Run:
    requests = get_requests(HOST, server.port, targets, headers)
    options = {"connections": CONNECTIONS, "seconds": SECONDS, "warmup_s": warmup_s}
    return load(HOST, server.port, requests, **options)


def _show(label: str, run: Run) -> None:
    print(
        f"  {label:<24} {run.per_second:>9.1f} req/s  p50 {run.latency_ms(50):>6.2f} ms"
        f"  p95 {run.latency_ms(95):>6.2f} ms  ({run.requests} requests)"
    )


def measure(databases: dict[str, str], tmp: Path, store: data.Store) -> dict:
    """Per database the product/floor ratio (median of the rounds'), and the client's check."""
    pairs = _pairs(store)
    path = "/api/rules/resolve?"
    targets = [path + urlencode({"municipality": code, "topic": t}) for t, code in pairs]
    topic, code = pairs[0]
    ratios, floor_rates = {}, []
    print(f"rules over HTTP: {CONNECTIONS} connections, {SECONDS:g} s a run, {ROUNDS} rounds")
    for db, url in databases.items():
        spec = tmp / f"floor-{db}.json"
        body = _resolved_json(url, topic, code)
        spec.write_text(json.dumps({"url": url, "body": body}), encoding="utf-8")
        headers = {"Authorization": f"Bearer {store.tokens[url]}"}
        with (
            Server("real", url, ready_path="/healthz") as real,
            Server("rules-floor", str(spec), ready_path="/api/rules/resolve") as floor,
        ):
            runs = {"product": (real, headers), "floor": (floor, None)}
            _drive(real, targets, headers, WARMUP_S)
            _drive(floor, targets, None, WARMUP_S / 4)
            rows = []
            for n in range(ROUNDS):
                order = ["product", "floor"] if n % 2 == 0 else ["floor", "product"]
                found = {kind: _drive(runs[kind][0], targets, runs[kind][1]) for kind in order}
                for kind in order:
                    _show(f"{db} round {n + 1} {kind}", found[kind])
                rows.append(found)
        product = statistics.median(r["product"].per_second for r in rows)
        floor_rate = statistics.median(r["floor"].per_second for r in rows)
        ratio = statistics.median(r["product"].per_second / r["floor"].per_second for r in rows)
        print(
            f"  {db}: product {product:.1f} req/s, floor {floor_rate:.1f} req/s (medians); "
            f"ratio {ratio:.3f} (median of rounds) target >= {TARGET_RATIO}"
            f" {'ok' if ratio >= TARGET_RATIO else 'MISS'}"
        )
        ratios[db] = ratio
        floor_rates.append(floor_rate)
    client = _client_check(tmp, body, max(floor_rates))
    return {"ratios": ratios, "client": client}


def _client_check(tmp: Path, body: str, floor_rate: float) -> float:
    """The generator's rate against a plain ASGI app, as a multiple of the fastest floor's."""
    payload = tmp / "raw.json"
    payload.write_text(body, encoding="utf-8")
    with Server("raw-asgi", str(payload), ready_path="/") as raw:
        runs = [_drive(raw, ["/api/rules/resolve?municipality=0751&topic=x"]) for _ in range(3)]
    for n, run in enumerate(runs, 1):
        _show(f"raw ASGI run {n}", run)
    rate = statistics.median(run.per_second for run in runs)
    margin = rate / floor_rate
    print(
        f"  load generator vs raw ASGI: {rate:.0f} req/s = {margin:.1f}x the fastest floor "
        f"({floor_rate:.0f} req/s); need >= {CLIENT_MARGIN:g}x"
        f" {'ok' if margin >= CLIENT_MARGIN else 'MISS'}"
    )
    return margin
