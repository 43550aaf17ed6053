"""Downloads made in the background (the bill bases as one zip): each job's state and file on disk.

A job runs in its server process's worker thread, one at a time (each PDF takes one of the two
render slots, so agents' letters keep the other), and writes its state to <id>.json after every
PDF, so any server process on the same machine and data folder can show its progress and hand out
the file (whether the job still runs is told by its process id, which only means something on the
machine that runs it). A job lives as long as the process that runs it: after a restart or a
crash it reads as interrupted, and its owner starts it again. Files are deleted KEEP_FOR after
their job ended.
"""

import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from hotline.kit.errors import Conflict, HotlineError, NotFound

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
KEEP_FOR = timedelta(hours=24)
# A running job writes its state after every PDF (about a second each); silent this long: gone.
STALE_AFTER = timedelta(minutes=5)
MAX_OPEN_PER_USER = 2
_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16)
_RUNNER = secrets.token_hex(8)  # this process, as opposed to an earlier one with the same pid

Progress = Callable[[int, int], None]
Work = Callable[[BinaryIO, Progress], None]


class TooManyJobs(HotlineError):
    """The user already has as many jobs running as one may."""

    status_code = 429


class JobStopped(Exception):
    """The server is shutting down: the job ends between two PDFs."""


@dataclass
class ReportJob:
    """One background download: whose it is, what it makes, and how far it has come."""

    id: str
    owner_id: int
    params: list[list[str]]  # the report's filters as query parameters
    label: str  # what it makes, as the page shows it
    filename: str
    total: int
    done: int = 0
    state: str = QUEUED
    error: str = ""  # a text key, when failed
    created_at: str = field(default_factory=lambda: _now().isoformat())
    updated_at: str = field(default_factory=lambda: _now().isoformat())
    pid: int = field(default_factory=os.getpid)
    runner: str = _RUNNER

    @property
    def created(self) -> datetime:
        """When it was ordered."""
        return datetime.fromisoformat(self.created_at)

    @property
    def finished(self) -> bool:
        """Done or failed: nothing more will happen to it."""
        return self.state in (DONE, FAILED)


class ReportJobs:
    """The jobs of one data folder, and this process's worker thread that runs them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-job")
        self._lock = threading.RLock()
        self._active: set[str] = set()  # queued or running in this process
        self._stopping = threading.Event()
        self.sweep()

    def start(
        self, *, owner_id: int, params: list[tuple[str, str]], label: str, filename: str,
        total: int, work: Work,
    ) -> ReportJob:  # fmt: skip
        """Queue the work; the same user's unfinished job with the same filters is reused."""
        self.sweep()
        wanted = [list(pair) for pair in params]
        with self._lock:
            if self._stopping.is_set():
                raise Conflict("report_jobs.stopping")
            open_jobs = [job for job in self.jobs_of(owner_id) if not job.finished]
            same = next((job for job in open_jobs if job.params == wanted), None)
            if same is not None:
                return same
            if len(open_jobs) >= MAX_OPEN_PER_USER:
                raise TooManyJobs("report_jobs.too_many", limit=MAX_OPEN_PER_USER)
            job = ReportJob(
                id=secrets.token_urlsafe(16), owner_id=owner_id, params=wanted, label=label,
                filename=filename, total=total,
            )  # fmt: skip
            self._save(job)
            self._active.add(job.id)
            self._executor.submit(self._run, job, work)
        return job

    def get(self, job_id: str, *, owner_id: int) -> ReportJob:
        """The user's job; another user's, or one long gone, is not found."""
        job = self._load(job_id) if _ID.match(job_id) else None
        if job is None or job.owner_id != owner_id:
            raise NotFound("report_jobs.not_found")
        return job

    def file(self, job: ReportJob) -> Path:
        """The finished job's file."""
        path = self._path(job.id, ".zip")
        if job.state != DONE:
            raise Conflict("report_jobs.not_done")
        if not path.exists():
            raise NotFound("report_jobs.not_found")
        return path

    def jobs_of(self, owner_id: int) -> list[ReportJob]:
        """The user's jobs still kept, newest first."""
        jobs = (self._load(path.stem) for path in self.directory.glob("*.json"))
        mine = [job for job in jobs if job is not None and job.owner_id == owner_id]
        return sorted(mine, key=lambda job: job.created_at, reverse=True)

    def sweep(self) -> None:
        """Delete the jobs that ended more than KEEP_FOR ago, and files no job owns."""
        now = _now()
        kept = set()
        for path in self.directory.glob("*.json"):
            job = self._load(path.stem)
            if job is None:
                continue
            if job.finished and now - datetime.fromisoformat(job.updated_at) > KEEP_FOR:
                for suffix in (".json", ".zip", ".part"):
                    self._path(job.id, suffix).unlink(missing_ok=True)
            else:
                kept.add(job.id)
        for path in self.directory.iterdir():
            job_id = path.name.split(".")[0]
            if job_id not in kept and _older_than(path, STALE_AFTER):
                path.unlink(missing_ok=True)  # a half-written file of a dead process

    def shutdown(self) -> None:
        """Stop: queued jobs end as interrupted, a running one after its current PDF."""
        self._stopping.set()
        self._executor.shutdown(wait=True, cancel_futures=False)

    def _run(self, job: ReportJob, work: Work) -> None:
        part = self._path(job.id, ".part")
        try:
            if self._stopping.is_set():
                raise JobStopped
            self._save(job, state=RUNNING)

            def progress(done: int, total: int) -> None:
                if self._stopping.is_set():
                    raise JobStopped
                self._save(job, done=done, total=total)

            with open(part, "wb") as target:
                work(target, progress)
            os.replace(part, self._path(job.id, ".zip"))
            self._save(job, state=DONE)
        except JobStopped:
            self._save(job, state=FAILED, error="report_jobs.interrupted")
        except Exception:
            log.exception("report job %s failed", job.id)
            self._save(job, state=FAILED, error="report_jobs.failed")
        finally:
            part.unlink(missing_ok=True)
            with self._lock:
                self._active.discard(job.id)

    def _save(self, job: ReportJob, **changes) -> None:
        """Write the job's state atomically: a reader sees the old state or the new one."""
        for name, value in changes.items():
            setattr(job, name, value)
        job.updated_at = _now().isoformat()
        temporary = self._path(job.id, f".{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(asdict(job)), encoding="utf-8")
        os.replace(temporary, self._path(job.id, ".json"))

    def _load(self, job_id: str) -> ReportJob | None:
        try:
            job = ReportJob(**json.loads(self._path(job_id, ".json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        if self._interrupted(job):
            job.state, job.error = FAILED, "report_jobs.interrupted"
        return job

    def _interrupted(self, job: ReportJob) -> bool:
        """An unfinished job whose process is gone (or this process, but not running it)."""
        if job.finished:
            return False
        if job.runner == _RUNNER:
            with self._lock:
                return job.id not in self._active
        if job.pid == os.getpid() or not _alive(job.pid):
            return True
        silent = _now() - datetime.fromisoformat(job.updated_at)
        return job.state == RUNNING and silent > STALE_AFTER

    def _path(self, job_id: str, suffix: str) -> Path:
        return self.directory / f"{job_id}{suffix}"


def _now() -> datetime:
    return datetime.now(UTC)


def _alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _older_than(path: Path, age: timedelta) -> bool:
    try:
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return False
    return _now() - modified > age
