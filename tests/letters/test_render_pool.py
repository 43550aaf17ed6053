"""PDFs rendered in the server's worker processes: the same PDF, its warnings logged here."""

import logging
import os
import signal

import pytest

from hotline.documents import render_pool
from hotline.documents.pdf import render_here
from hotline.letters.render import letter_html, render_letter_pdf
from tests.letters.test_render import letter
from tests.letters.test_render_cache import _text, _write_css


@pytest.fixture
def workers():
    """A pool of two worker processes, as the server runs with on two cores."""
    render_pool.configure(2)
    return render_pool


def _worker_pids(pool) -> set[int]:
    return {process.pid for process in (pool._pool._processes or {}).values()}


def test_a_pdf_is_rendered_in_a_worker_process_and_is_the_same_pdf(workers, own_letterhead):
    _, load = own_letterhead
    letterhead = load()
    pooled = render_letter_pdf(letter(), letterhead)
    pids = _worker_pids(workers)
    assert pids and os.getpid() not in pids

    here = render_here(
        letter_html(letter(), letterhead),
        letterhead=letterhead,
        identifier=f"{letterhead.code}-{letter().reference}",
    )
    assert pooled == here


def test_the_renderers_warnings_are_logged_in_the_calling_process(workers, own_letterhead, caplog):
    folder, load = own_letterhead
    _write_css(folder / "style.css", '@import url("file:///etc/passwd");')
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render_letter_pdf(letter(), load())
    assert "Side 1 af 1" in _text(pdf)
    assert any("/etc/passwd" in record.getMessage() for record in caplog.records)


def test_a_dead_worker_costs_a_retry_not_the_letter(workers, own_letterhead):
    _, load = own_letterhead
    first = render_letter_pdf(letter(), load())
    for pid in _worker_pids(workers):
        os.kill(pid, signal.SIGKILL)
    assert render_letter_pdf(letter(), load()) == first
    assert _worker_pids(workers)  # a new pool, with live workers


def test_no_pool_renders_in_the_calling_process(own_letterhead):
    render_pool.configure(0)
    try:
        _, load = own_letterhead
        assert not render_pool.active()
        assert "Side 1 af 1" in _text(render_letter_pdf(letter(), load()))
    finally:
        render_pool.configure(None)


_SERVER = """
import os, sys, time
from hotline.documents import render_pool
render_pool.configure(1)
pool = render_pool._current_pool()
print(pool.submit(os.getpid).result(), flush=True)
time.sleep(120)
"""


def test_a_worker_exits_when_its_server_process_is_killed():
    """kill -9 of the server leaves no PDF worker behind (it never gets its queue's EOF)."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    server = subprocess.Popen([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(server.stdout.readline())
    finally:
        server.kill()
        server.wait()
    status = Path(f"/proc/{worker}/status")
    deadline = time.monotonic() + 10 * render_pool.PARENT_CHECK_S
    while time.monotonic() < deadline:
        try:
            if "State:\tZ" in status.read_text():  # exited; its new parent has not reaped it
                break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the PDF worker outlived its server process")


def test_workers_yield_the_cores_to_the_server_when_both_are_busy(workers):
    """Claims and live queues come before a PDF: the workers run at a lower priority."""
    worker_niceness = workers._current_pool().submit(os.nice, 0).result()
    assert worker_niceness == min(19, os.nice(0) + render_pool.NICENESS) > os.nice(0)
