"""Benchmark: letters through the real reply API beside a WeasyPrint floor; prints a table.

Product: POST /api/calls/{id}/replies on the real server (a uvicorn subprocess, one process, its
PDF render pool at the default of one worker per core), each client an agent with an API token
and an open Aarhus call of its own, PDF letters (no e-mail), on SQLite and on PostgreSQL. A 1p
letter is three paragraphs citing no rule, a 3p letter eight paragraphs citing three rules of the
shipped knowledge base; their pages are checked by reading the archived PDF back.

Floor: WeasyPrint rendering a letter page written for the bench (bench/_letters_floor.py): its
own HTML and CSS with the same content (letterhead and logo, window address, the same paragraphs
and rule texts, footer, page numbers) in the same IBM Plex Sans fonts, the CSS parsed once with
one shared FontConfiguration, images cached, PDF/A-3u with HarfBuzz subsetting, one letter after
another in one process. It is fair because it is what a competent developer writes to turn the
same letter into the same kind of PDF with WeasyPrint at its best, with none of the product's
code: what the product adds (HTTP, tokens, the database, Markdown, templates, the locked-down
fetcher, the trip to a render worker, the archive) shows in the ratio instead of cancelling out.

Figures (product and floor rounds alternate; every round is printed):
- ratio_1p / ratio_3p: letters/s through the API with one client / the floor's letters/s, the
  median of the rounds' ratios; 1.0 = as fast as bare WeasyPrint.
- concurrency_gain: letters/s of two clients at once / one client, one server process (>= 1.6).
  Beside it, the CPU ms per letter of the server, its render workers and the client (from /proc)
  and how many CPUs were busy with two clients (those processes / the whole machine): the ceiling
  of the gain on this machine.
- cpu_ms_1p: CPU time (process_time) of render_letter_pdf for a 1p letter in this process, render
  pool off, median (<= 80 ms).
- worst_input_s: the slowest accepted adversarial reply through the API (<= 2 s); every input's
  status and time printed, the ones over the layout budget must come back 422 with a Danish text.
- the load generator: the same client code against a bare Starlette route, >= 5x the floor.

Run: .venv/bin/python bench/letters.py  (PostgreSQL: $HOTLINE_BENCH_PG_URL, else
scripts/test-postgres, in a database of its own, hotline_bench_letters)
"""

import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from hotline.models import install_listeners

try:
    from bench import _letters_data as data
    from bench._letters_client import (
        Agent,
        Clients,
        Run,
        cpu_seconds,
        machine_busy,
        pdf_pages,
        timed_floor,
    )
    from bench._letters_floor import Floor, FloorLetter
    from bench._letters_inputs import adversarial_inputs
    from bench._letters_report import report
    from bench._support import Server, postgres_url
except ImportError:  # run as a script (bench/ itself is on sys.path)
    import _letters_data as data
    from _letters_client import (
        Agent,
        Clients,
        Run,
        cpu_seconds,
        machine_busy,
        pdf_pages,
        timed_floor,
    )
    from _letters_floor import Floor, FloorLetter
    from _letters_inputs import adversarial_inputs
    from _letters_report import report
    from _support import Server, postgres_url

ROUNDS = 6
LETTERS = {"1p": 16, "3p": 6}  # per client per round
CPU_SAMPLES = 21
LOADGEN_REQUESTS = 300


def _today():
    from hotline.kit.dates import COPENHAGEN

    return datetime.now(COPENHAGEN).date()


def _floor_letter(size: str, rules_html: list[str]) -> FloorLetter:
    number = data.next_number()
    return FloorLetter(
        reference=f"HL-2026-{number:06d}",
        subject=data.SUBJECT,
        paragraphs=data.paragraphs(size, number),
        rules_html=rules_html,
        recipient=[data.RECIPIENT_NAME, *data.RECIPIENT_ADDRESS.splitlines()],
        author=data.AUTHOR,
        on=_today(),
    )


def _metered(pid: int, run: Callable[[], Run]) -> tuple[Run, float, float, float]:
    """The run, and its CPU ms per letter (server, workers, client), own and machine CPUs busy."""
    cpu_before, busy_before = cpu_seconds(pid), machine_busy()
    result = run()
    cpu_after, busy_after = cpu_seconds(pid), machine_busy()
    if None in (cpu_before, cpu_after, busy_before, busy_after):
        return result, math.nan, math.nan, math.nan
    spent = sum(cpu_after.values()) - sum(cpu_before.values())
    busy, total = (after - before for after, before in zip(busy_after, busy_before, strict=True))
    machine = busy / total * (os.cpu_count() or 1)
    return result, spent * 1000 / result.letters, spent / result.seconds, machine


def measure_api(url: str, label: str, floor: Floor) -> dict:
    """Alternating rounds through the API and of the floor, page checks, adversarial inputs."""
    agents = data.build_database(url, agents=3)
    rules = {
        size: [
            floor.rule_html(r.title, r.sections_md, r.fields) for r in data.cited_rules(url, size)
        ]
        for size in data.SIZES
    }
    rows = []
    with Server("real", url) as server, Clients(server.base_url, agents) as clients:
        for size in data.SIZES:  # warm-up: both render workers started, fonts loaded
            clients.run(2, 2, lambda size=size: data.reply_json(size))
            floor.render(_floor_letter(size, rules[size]))
        each = ", ".join(f"{count} {size}" for size, count in LETTERS.items())
        print(f"{label}: letters/s per round ({each} letters per client per round)")
        print(
            f"{'round':>5} {'api 1p':>7} {'floor 1p':>8} {'ratio':>6} {'api 1p x2':>9}"
            f" {'gain':>5} {'cpu ms/1p':>9} {'x2 CPUs own/all':>15}"
            f" {'api 3p':>6} {'floor 3p':>8} {'ratio':>6}"
        )
        for number in range(1, ROUNDS + 1):
            pid = server.process.pid
            one, cpu_ms, _, _ = _metered(
                pid, lambda: clients.run(1, LETTERS["1p"], lambda: data.reply_json("1p"))
            )
            floor_1p, pdfs_1p = timed_floor(
                lambda _n: floor.render(_floor_letter("1p", [])), LETTERS["1p"]
            )
            two, _, own, machine = _metered(
                pid, lambda: clients.run(2, LETTERS["1p"], lambda: data.reply_json("1p"))
            )
            three = clients.run(1, LETTERS["3p"], lambda: data.reply_json("3p"))
            floor_3p, pdfs_3p = timed_floor(
                lambda _n: floor.render(_floor_letter("3p", rules["3p"])), LETTERS["3p"]
            )
            row = {
                "api_1p": one.per_second,
                "floor_1p": floor_1p,
                "ratio_1p": one.per_second / floor_1p,
                "api_1p_x2": two.per_second,
                "gain": two.per_second / one.per_second,
                "cpu_ms": cpu_ms,
                "own_x2": own,
                "machine_x2": machine,
                "api_3p": three.per_second,
                "floor_3p": floor_3p,
                "ratio_3p": three.per_second / floor_3p,
            }
            rows.append(row)
            busy = f"{row['own_x2']:.2f} / {row['machine_x2']:.2f}"
            print(
                f"{number:>5} {row['api_1p']:>7.1f} {row['floor_1p']:>8.1f}"
                f" {row['ratio_1p']:>6.3f} {row['api_1p_x2']:>9.1f} {row['gain']:>5.2f}"
                f" {row['cpu_ms']:>9.1f} {busy:>15}"
                f" {row['api_3p']:>6.1f} {row['floor_3p']:>8.1f} {row['ratio_3p']:>6.3f}",
                flush=True,
            )
        pages = {
            "api_1p": clients.pages(one.replies[-1]),
            "api_3p": clients.pages(three.replies[-1]),
            "floor_1p": pdf_pages(pdfs_1p[-1]),
            "floor_3p": pdf_pages(pdfs_3p[-1]),
        }
        inputs = run_inputs(clients, index=2)
    result = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    return result | {"pages": pages, "inputs": inputs}


def run_inputs(clients: Clients, index: int) -> list[dict]:
    """Each adversarial body posted once as agent `index`: its status, seconds and message."""
    results = []
    for name, body, should_accept in adversarial_inputs():
        response, seconds = clients.post(index, data.reply_json("1p", body_md=body))
        detail = response.json().get("detail", "") if response.status_code == 422 else ""
        results.append(
            {
                "name": name,
                "chars": len(body),
                "status": response.status_code,
                "seconds": seconds,
                "detail": detail,
                "ok": (response.status_code == 201) if should_accept else bool(detail),
            }
        )
    return results


def measure_loadgen() -> dict:
    """Replies/s of the same client code against a bare route answering 201 with fixed JSON."""
    reply = {"id": 1, "reference": "HL-2026-000001", "status": "downloaded", "pdf_sha256": "0" * 64}
    agents = [Agent("bare", 1), Agent("bare", 2)]
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        payload = Path(tmp) / "reply.json"
        payload.write_text(json.dumps(reply), encoding="utf-8")
        with Server("bare-post", str(payload)) as bare, Clients(bare.base_url, agents) as clients:
            clients.run(1, 50, lambda: data.reply_json("1p"))
            one = clients.run(1, LOADGEN_REQUESTS, lambda: data.reply_json("1p"))
            two = clients.run(2, LOADGEN_REQUESTS, lambda: data.reply_json("1p"))
    return {"one": one.per_second, "two": two.per_second}


def measure_cpu(floor: Floor) -> dict:
    """Median CPU and wall ms of one 1p letter: render_letter_pdf here (pool off), and the floor."""
    from hotline.config import PROJECT_ROOT
    from hotline.documents import render_pool
    from hotline.letters.letterheads import load_letterhead
    from hotline.letters.render import LetterContent, render_letter_pdf
    from hotline.municipalities.models import Municipality

    assert not render_pool.active(), "the bench process must render in process"
    municipality = Municipality(code=data.CODE, name=data.MUNICIPALITY)
    letterhead = load_letterhead(
        municipality=municipality, letterheads_dir=PROJECT_ROOT / "letterheads"
    )

    def product() -> bytes:
        number = data.next_number()
        letter = LetterContent(
            municipality_name=data.MUNICIPALITY,
            reference=f"HL-2026-{number:06d}",
            letter_date=_today(),
            subject=data.SUBJECT,
            body_md="\n\n".join(data.paragraphs("1p", number)),
            recipient_name=data.RECIPIENT_NAME,
            recipient_address=data.RECIPIENT_ADDRESS,
            author_name=data.AUTHOR,
        )
        return render_letter_pdf(letter, letterhead)

    figures = {}
    for name, render in (
        ("product", product),
        ("floor", lambda: floor.render(_floor_letter("1p", []))),
    ):
        render(), render()  # warm: imports, fonts, stylesheets
        cpu, wall = [], []
        for _ in range(CPU_SAMPLES):
            start_cpu, start = time.process_time(), time.perf_counter()
            pdf = render()
            cpu.append((time.process_time() - start_cpu) * 1000)
            wall.append((time.perf_counter() - start) * 1000)
        assert pdf_pages(pdf) == 1, f"the {name}'s 1p letter is not one page"
        figures[name] = (statistics.median(cpu), statistics.median(wall))
    return figures


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    install_listeners()  # the product's ORM listeners, as its own processes have them
    print(f"load average at start: {_load()} ({os.cpu_count()} CPUs)")
    from hotline.documents.harfbuzz import harfbuzz_subset_available

    processes = os.environ.get("HOTLINE_RENDER_PROCESSES") or f"default, {os.cpu_count()}"
    print(
        f"server: one uvicorn process, render pool of {processes} worker(s); "
        f"HarfBuzz subsetting: {'yes' if harfbuzz_subset_available() else 'NO'}"
    )
    floor = Floor()
    results = {}
    with tempfile.TemporaryDirectory(prefix="hotline-bench-letters-") as tmp:
        results["SQLite"] = measure_api(f"sqlite:///{tmp}/letters.db", "SQLite", floor)
    if pg := postgres_url("hotline_bench_letters"):
        results["PostgreSQL"] = measure_api(pg, "PostgreSQL", floor)
    loadgen = measure_loadgen()
    cpu = measure_cpu(floor)
    print(f"load average at end: {_load()}")
    report(results, loadgen, cpu)


if __name__ == "__main__":
    main()
