"""Benchmark: the letter pipeline beside WeasyPrint best practice; prints a table (not a test).

The pipeline is render_letter_pdf as the app calls it: the HTML built from the agent's text and the
cited rules on the letterhead, the stylesheets, the locked-down URL fetcher, PDF/A-3u. Beside it,
WeasyPrint renders the same final HTML (letter_html) with best practice: the same stylesheets as
weasyprint.CSS objects created once, one shared FontConfiguration, one fetcher, the same PDF
options. Every sample is a different letter (no Markdown cache helps the body), and the two
alternate so the machine's noise falls on both. Then letters per second: one process, and a process
pool with a worker per core, each warmed once. The last line holds the headline figures.

Run: .venv/bin/python bench/letters.py
"""

import io
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date

from hotline.config import PROJECT_ROOT
from hotline.kit.markdown import render_markdown
from hotline.letters.letterheads import Letterhead, load_letterhead
from hotline.letters.render import (
    PDF_VARIANT,
    CitedRule,
    LetterContent,
    letter_html,
    make_url_fetcher,
    render_letter_pdf,
)
from hotline.letters.stylesheets import letter_stylesheets, parse_stylesheet
from hotline.municipalities.models import Municipality

CODE, NAME = "0751", "Aarhus Kommune"
SIZES = {"1p": (2, 1), "3p": (10, 3)}  # body paragraphs, cited rules
EXPECTED_PAGES = {"1p": 1, "3p": 3}
SAMPLES = 11
WARMUP = 1
BATCH = 40
TARGET_RATIO = 1.15


def sample_letter(paragraphs: int, rules: int, number: int = 0) -> LetterContent:
    """A letter with the given number of body paragraphs and cited rules; number makes it unique."""
    body = "\n\n".join(
        f"Sag {number}, afsnit {n}: " + "Forklaring om reglerne. " * 12 for n in range(paragraphs)
    )
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
        municipality_name=NAME,
        reference=f"HL-2026-{number:06d}",
        letter_date=date(2026, 11, 23),
        subject="Svar på din henvendelse",
        body_md=body,
        recipient_name="Søren Østergård",
        recipient_address="Åboulevarden 12\n8000 Aarhus C",
        author_name="Karen Ærbødig",
        cited=cited,
    )


def bench_letterhead() -> Letterhead:
    """Aarhus's own letterhead (logo, colours and a style.css)."""
    municipality = Municipality(code=CODE, name=NAME)
    return load_letterhead(municipality=municipality, letterheads_dir=PROJECT_ROOT / "letterheads")


class BestPractice:
    """WeasyPrint as its documentation advises: CSS parsed once, one FontConfiguration."""

    def __init__(self, letterhead: Letterhead) -> None:
        from weasyprint.text.fonts import FontConfiguration

        self.font_config = FontConfiguration()
        self.stylesheets = [  # weasyprint.CSS objects, created once and reused
            parse_stylesheet(source, self.font_config) for source in letter_stylesheets(letterhead)
        ]
        self.fetcher = make_url_fetcher(letterhead)
        self.base_url = letterhead.directory.as_uri() + "/"

    def render(self, html: str, identifier: str) -> bytes:
        """The PDF of the final HTML, with the pipeline's PDF options."""
        from weasyprint import HTML

        document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher)
        return document.write_pdf(
            stylesheets=self.stylesheets,
            font_config=self.font_config,
            pdf_variant=PDF_VARIANT,
            pdf_identifier=identifier.encode(),
        )


def _ms(fn) -> tuple[float, bytes]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def bench_latency(letterhead: Letterhead, best: BestPractice, size: str) -> dict:
    """Median ms of the pipeline and of best practice on the same letters, alternating."""
    paragraphs, rules = SIZES[size]
    timings: dict[str, list[float]] = {"pipeline": [], "best": []}
    same, pages = True, set()
    for number in range(WARMUP + SAMPLES):
        letter = sample_letter(paragraphs, rules, number)
        html = letter_html(letter, letterhead)  # the pipeline's final HTML, outside the timing
        render_markdown.cache_clear()  # so the pipeline still renders the Markdown, as for a reply
        identifier = f"{letterhead.code}-{letter.reference}"
        runs = [
            ("pipeline", lambda letter=letter: render_letter_pdf(letter, letterhead)),
            ("best", lambda html=html, identifier=identifier: best.render(html, identifier)),
        ]
        pdfs = {}
        for name, fn in runs if number % 2 else reversed(runs):
            ms, pdfs[name] = _ms(fn)
            if number >= WARMUP:
                timings[name].append(ms)
        same = same and pdfs["pipeline"] == pdfs["best"]
        pages.add(_pages(pdfs["pipeline"]))
    pipeline, best_ms = (statistics.median(timings[k]) for k in ("pipeline", "best"))
    return {
        "pipeline": pipeline,
        "best": best_ms,
        "ratio": pipeline / best_ms,
        "same": same,
        "pages": pages,
    }


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


_worker_letterhead: Letterhead | None = None


def _warm_worker(barrier) -> None:
    """Load the letterhead and render once (fonts, imports), then wait for the other workers."""
    global _worker_letterhead
    _worker_letterhead = bench_letterhead()
    render_letter_pdf(sample_letter(*SIZES["1p"]), _worker_letterhead)
    barrier.wait(timeout=120)


def _ready() -> None:
    """A no-op task: once every worker has run one, all of them are warm."""


def _render_in_worker(letter: LetterContent) -> int:
    return len(render_letter_pdf(letter, _worker_letterhead))


def bench_throughput(letterhead: Letterhead) -> dict:
    """Letters per second over a fixed batch of one-page letters: one process, then a pool."""
    letters = [sample_letter(*SIZES["1p"], number=1000 + n) for n in range(BATCH)]
    start = time.perf_counter()
    for letter in letters:
        render_letter_pdf(letter, letterhead)
    single = BATCH / (time.perf_counter() - start)

    workers = os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")  # fresh workers: no forked font state
    barrier = context.Barrier(workers)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_warm_worker, initargs=(barrier,)
    ) as pool:
        for future in [pool.submit(_ready) for _ in range(workers)]:
            future.result()
        start = time.perf_counter()
        sizes = list(pool.map(_render_in_worker, letters))
        pooled = BATCH / (time.perf_counter() - start)
    assert all(sizes), "a worker rendered an empty PDF"
    return {"single": single, "pool": pooled, "workers": workers}


def main() -> None:
    letterhead = bench_letterhead()
    best = BestPractice(letterhead)
    render_letter_pdf(sample_letter(1, 0), letterhead)  # warm-up: imports, the slot's fonts
    latency = {size: bench_latency(letterhead, best, size) for size in SIZES}
    throughput = bench_throughput(letterhead)

    shapes = ", ".join(
        f"{size} = {p} paragraphs + {r} cited rule(s), pages {sorted(latency[size]['pages'])}"
        for size, (p, r) in SIZES.items()
    )
    print(f"letterhead {CODE} ({NAME}); {shapes}; {SAMPLES} samples each, alternating")
    print(
        f"throughput: a batch of {BATCH} one-page letters; pool = ProcessPoolExecutor with "
        f"{throughput['workers']} workers (os.cpu_count()), each warmed once"
    )
    rows = []
    checks = {}
    for size in SIZES:
        result = latency[size]
        rows += [
            (f"pipeline {size} median (ms)", f"{result['pipeline']:.1f}", "", ""),
            (f"best practice {size} median (ms)", f"{result['best']:.1f}", "", ""),
            (f"ratio {size} (pipeline/best)", f"{result['ratio']:.3f}", f"<= {TARGET_RATIO}", None),
        ]
        checks[f"ratio {size} (pipeline/best)"] = result["ratio"] <= TARGET_RATIO
        checks[f"pages {size}"] = result["pages"] == {EXPECTED_PAGES[size]}
        rows.append(
            (f"pages {size}", str(sorted(result["pages"])), str(EXPECTED_PAGES[size]), None)
        )
    same = all(latency[size]["same"] for size in SIZES)
    checks["same PDF bytes as best practice"] = same
    rows += [
        ("same PDF bytes as best practice", "yes" if same else "no", "yes", None),
        ("letters/s, one process", f"{throughput['single']:.1f}", "", ""),
        (f"letters/s, pool of {throughput['workers']}", f"{throughput['pool']:.1f}", "", ""),
        ("pool speed-up", f"{throughput['pool'] / throughput['single']:.2f}x", "", ""),
    ]
    print(f"{'name':<34} {'value':>10} {'target':>8} {'ok?':>6}")
    for name, value, target, ok in rows:
        if ok is None:
            ok = "ok" if checks[name] else "MISS"
        print(f"{name:<34} {value:>10} {target:>8} {ok:>6}")
    print(
        f"ratio_1p={latency['1p']['ratio']:.3f} ratio_3p={latency['3p']['ratio']:.3f} "
        f"letters_per_s={throughput['pool']:.1f}"
    )


if __name__ == "__main__":
    main()
