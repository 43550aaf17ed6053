"""PDFs rendered in worker processes: off the server's event loop and out of its GIL.

WeasyPrint is pure Python, so renders in threads of the server process take turns on one core
and slow every request the process serves. When the server configures a pool
(HOTLINE_RENDER_PROCESSES, by default one worker per core), every PDF (letters, bill bases,
insight reports, data-protection summaries) is rendered in one of its worker processes; a caller
(always a worker thread, never the event loop) waits for its own PDF. Without a pool (the command
line, 0 processes) the PDF is rendered in the calling thread.

Guarantee: render() returns exactly the PDF the same call renders in process, and the renderer's
log records (refused URLs, CSS warnings) are logged in the calling process as if it had rendered
it. A worker that dies takes only its own render down: the pool is replaced and the render is
tried once more before the error reaches the caller.
"""

import atexit
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from hotline.documents.letterhead import Letterhead

log = logging.getLogger(__name__)
_weasyprint_logger = logging.getLogger("weasyprint")
# A render never takes this long: the layout budget keeps letters to about a second.
RENDER_TIMEOUT_S = 120
PARENT_CHECK_S = 1.0
NICENESS = 5

_lock = threading.Lock()
_processes = 0
_pool: ProcessPoolExecutor | None = None


def configure(processes: int | None) -> None:
    """Render in this many worker processes (None: one per core; 0: in the calling thread)."""
    global _processes
    wanted = (os.cpu_count() or 1) if processes is None else max(0, processes)
    with _lock:
        if wanted != _processes:
            _shut_down()
            _processes = wanted


def active() -> bool:
    """Whether renders go to worker processes."""
    return _processes > 0


def render(
    render_here: Callable[..., bytes], html: str, *, letterhead: Letterhead, identifier: str
) -> bytes:
    """The PDF of the HTML, rendered by a worker process with `render_here` (a module's function,
    as the worker imports it by name)."""
    for attempt in (1, 2):
        pool = _current_pool()
        try:
            pdf, records = pool.submit(
                _render_in_worker, render_here, html, letterhead, identifier
            ).result(timeout=RENDER_TIMEOUT_S)
            break
        except BrokenProcessPool:
            log.warning("a PDF worker process died; starting the pool again (try %d)", attempt)
            _replace(pool)
            if attempt == 2:
                raise
    for level, message in records:
        _weasyprint_logger.log(level, "%s", message)
    return pdf


def _current_pool() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # spawn, not fork: the server process has threads (and locks held by them).
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(
                max_workers=_processes, mp_context=context, initializer=_warm_up
            )
        return _pool


def _replace(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


@atexit.register
def _shut_down() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def _warm_up() -> None:
    """Start a worker: the renderer loaded now (not at its first letter), its lower priority, and
    its end with the server's."""
    import weasyprint  # noqa: F401

    from hotline.documents import stylesheets  # noqa: F401  (the fonts and CSS it parses)

    threading.Thread(target=_exit_with_server, args=(os.getppid(),), daemon=True).start()
    # A letter is waited for, but by one agent: when the cores are busy, the claims and the live
    # queue of every console come first. Less than the exports' 10: still most of a core's share.
    os.nice(NICENESS)


def _exit_with_server(server_pid: int) -> None:
    """End this worker when the server process that started it is gone."""
    # A worker waits on its task queue, whose pipe it holds both ends of: when the server is
    # killed (or stops without shutting the pool down) no end-of-file ever comes, and the worker
    # would be left running for good.
    while os.getppid() == server_pid:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


def _render_in_worker(
    render_here: Callable[..., bytes], html: str, letterhead: Letterhead, identifier: str
) -> tuple[bytes, list[tuple[int, str]]]:
    """In a worker: the PDF, and the renderer's warnings for the caller to log."""
    collect = _Collect()
    _weasyprint_logger.addHandler(collect)
    try:
        pdf = render_here(html, letterhead=letterhead, identifier=identifier)
    finally:
        _weasyprint_logger.removeHandler(collect)
    return pdf, collect.records
