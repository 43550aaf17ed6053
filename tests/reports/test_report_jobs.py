"""The bill bases zipped in the background: start, progress, download, who may, and restarts."""

import io
import json
import os
import re
import subprocess
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from hotline.auth.models import Role
from hotline.calls.models import Call, CallState, Outcome
from hotline.calls.service import seed_contact_reasons
from hotline.kit.errors import Conflict
from hotline.reports import bill_job
from hotline.reports.jobs import DONE, FAILED, KEEP_FOR, QUEUED, RUNNING, ReportJob, ReportJobs
from hotline.reports.service import ensure_default_cost_rate
from tests.conftest import log_in_client

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
HTMX = {"HX-Request": "true"}


@pytest.fixture
def november(session):
    """Finished calls in Aarhus, Aalborg and Odense in November 2026."""
    seed_contact_reasons(session=session)
    ensure_default_cost_rate(session=session)
    start = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)
    for n, code in enumerate(["0751", "0751", "0851", "0461"]):
        offered = start + timedelta(hours=n)
        session.add(
            Call(
                reference=f"DH-J{n:04d}",
                municipality_code=code,
                state=CallState.DONE,
                offered_at=offered,
                answered_at=offered + timedelta(seconds=30),
                ended_at=offered + timedelta(seconds=300),
                wrapped_up_at=offered + timedelta(seconds=360),
                contact_reason_code="pas",
                outcome=Outcome.ANSWERED,
            )
        )
    session.commit()


@pytest.fixture
def held(client, monkeypatch):
    """Jobs pause after their first PDF until the test lets them go (released at teardown)."""
    first, release = threading.Event(), threading.Event()
    real = bill_job.write_bill_bases_zip

    def holding(target, *args, progress, **kwargs):
        def step(done: int, total: int) -> None:
            progress(done, total)
            first.set()
            release.wait(30)

        real(target, *args, progress=step, **kwargs)

    monkeypatch.setattr(bill_job, "write_bill_bases_zip", holding)
    yield SimpleNamespace(first=first, release=release)
    release.set()


def job_id_of(response) -> str:
    return re.search(r"/supervisor/report-jobs/([\w-]+)", response.text).group(1)


def wait_until_finished(app, job_id: str, owner_id: int) -> ReportJob:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = app.state.report_jobs.get(job_id, owner_id=owner_id)
        if job.finished:
            return job
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


def test_start_progress_done_download(app, login, make_user, november, held):
    user = make_user(Role.SUPERVISOR)
    client = login(user)
    page = client.get("/supervisor", params=NOVEMBER)
    assert 'action="/supervisor/report-jobs"' in page.text and 'name="csrf_token"' in page.text
    form = {**NOVEMBER, "municipality": ["0751", "0851"]}
    started = client.post("/supervisor/report-jobs", data=form, headers=HTMX)
    assert started.status_code == 200
    assert "Afregningsgrundlag for november 2026, 2 kommuner" in started.text
    job_id = job_id_of(started)
    assert held.first.wait(30)
    # Progress: the fragment asks again while the job runs (its thread is busy; the server is not).
    fragment = client.get(f"/supervisor/report-jobs/{job_id}", headers=HTMX)
    assert fragment.headers["cache-control"] == "no-store"
    assert "Laver PDF 1 af 3" in fragment.text and 'value="1"' in fragment.text
    assert 'hx-trigger="load delay:1s"' in fragment.text
    assert client.get("/supervisor", params=NOVEMBER).status_code == 200
    assert f"report-job-{job_id}" in client.get("/supervisor", params=NOVEMBER).text
    early = client.get(f"/supervisor/report-jobs/{job_id}/download")
    assert early.status_code == 409
    held.release.set()
    assert wait_until_finished(app, job_id, user.id).state == DONE
    done = client.get(f"/supervisor/report-jobs/{job_id}", headers=HTMX)
    assert "hx-trigger" not in done.text
    assert f'href="/supervisor/report-jobs/{job_id}/download"' in done.text
    download = client.get(f"/supervisor/report-jobs/{job_id}/download")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert 'filename="afregningsgrundlag_2026-11.zip"' in download.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert sorted(names) == [
        "afregningsgrundlag_0751_aarhus_2026-11.pdf",
        "afregningsgrundlag_0851_aalborg_2026-11.pdf",
        "afregningsgrundlag_alle_2026-11.pdf",
    ]


def test_without_script_the_start_leads_to_a_page_that_reloads_itself(
    app, login, make_user, november, held
):
    user = make_user(Role.SYSTEM_ADMIN)
    client = login(user)
    started = client.post(
        "/supervisor/report-jobs",
        data={**NOVEMBER, "region": "1081", "csrf_token": client.headers.pop("X-CSRF-Token")},
        follow_redirects=False,
    )
    assert started.status_code == 303
    page = client.get(started.headers["location"])
    assert page.status_code == 200 and page.headers["refresh"] == "2"
    assert "Region Nordjylland" in page.text and "hx-get" not in page.text
    held.release.set()
    wait_until_finished(app, started.headers["location"].rsplit("/", 1)[1], user.id)
    page = client.get(started.headers["location"])
    assert "refresh" not in page.headers and "/download" in page.text


def test_only_the_user_who_started_it_gets_it(app, client, login, make_user, november, held):
    owner = make_user(Role.SUPERVISOR)
    job_id = job_id_of(login(owner).post("/supervisor/report-jobs", data=NOVEMBER, headers=HTMX))
    held.release.set()
    wait_until_finished(app, job_id, owner.id)
    for other in (make_user(Role.SUPERVISOR), make_user(Role.SYSTEM_ADMIN)):
        stranger = log_in_client(TestClient(app), other)
        assert stranger.get(f"/supervisor/report-jobs/{job_id}").status_code == 404
        assert stranger.get(f"/supervisor/report-jobs/{job_id}/download").status_code == 404
        assert f"report-job-{job_id}" not in stranger.get("/supervisor", params=NOVEMBER).text
    for role, codes in ((Role.AGENT, ()), (Role.MUNICIPALITY_ADMIN, ("0751",))):
        outsider = log_in_client(TestClient(app), make_user(role, *codes))
        assert outsider.get(f"/supervisor/report-jobs/{job_id}/download").status_code == 403
        assert outsider.post("/supervisor/report-jobs", data=NOVEMBER).status_code == 403
    assert client.get("/supervisor/report-jobs/not-a-job-id").status_code == 404


def test_bad_input_is_refused_and_starts_nothing(app, client, login, make_user, november, held):
    jobs_dir = app.state.report_jobs.directory
    supervisor = login(make_user(Role.SUPERVISOR))
    bad_forms = [
        ({"from": "2026-13-01", "to": "2026-11-30"}, "Ugyldig dato"),
        ({**NOVEMBER, "municipality": "aarhus"}, "Ugyldig kommunekode"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "Startdatoen ligger efter slutdatoen"),
        ({**NOVEMBER, "region": "nord"}, "Ugyldig regionskode"),
    ]
    for form, message in bad_forms:
        response = supervisor.post("/supervisor/report-jobs", data=form, headers=HTMX)
        assert response.status_code == 422 and message in response.text
    assert (
        supervisor.post("/supervisor/report-jobs", data={"from": "2026-11-01"}).status_code == 422
    )
    token = supervisor.headers.pop("X-CSRF-Token")
    assert supervisor.post("/supervisor/report-jobs", data=NOVEMBER).status_code == 403
    supervisor.headers["X-CSRF-Token"] = token
    assert supervisor.get("/supervisor/report-jobs", params=NOVEMBER).status_code == 405
    assert list(jobs_dir.iterdir()) == []


def test_the_same_job_is_not_started_twice_and_each_user_has_a_limit(
    app, login, make_user, november, held
):
    user = make_user(Role.SUPERVISOR)
    client = login(user)
    first = job_id_of(client.post("/supervisor/report-jobs", data=NOVEMBER, headers=HTMX))
    again = client.post("/supervisor/report-jobs", data=NOVEMBER, headers=HTMX)
    assert job_id_of(again) == first and again.text.count('class="hl-report-job"') == 1
    client.post("/supervisor/report-jobs", data={**NOVEMBER, "region": "1081"}, headers=HTMX)
    third = client.post("/supervisor/report-jobs", data={**NOVEMBER, "region": "1082"})
    assert third.status_code == 429 and "allerede 2 filer" in third.text
    assert len(app.state.report_jobs.jobs_of(user.id)) == 2


# --- the job store on its own: restarts, clean-up, shutdown ---


def _write_job(jobs: ReportJobs, **values) -> ReportJob:
    job = ReportJob(
        id=values.pop("id", "A" * 22), owner_id=1, params=[], label="", filename="x.zip", total=3,
        **values,
    )  # fmt: skip
    (jobs.directory / f"{job.id}.json").write_text(json.dumps(job.__dict__))
    return job


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_job_whose_process_is_gone_reads_as_interrupted(tmp_path):
    jobs = ReportJobs(tmp_path / "jobs")
    long_ago = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    cases = {
        "A" * 22: dict(state=RUNNING, runner="earlier", pid=_dead_pid()),  # restart or crash
        "B" * 22: dict(state=QUEUED, runner="earlier", pid=os.getpid()),  # a restart, same pid
        "C" * 22: dict(state=RUNNING, runner=jobs_runner(), pid=os.getpid()),  # not running here
        "D" * 22: dict(state=RUNNING, runner="other", pid=os.getppid(), updated_at=long_ago),
    }
    for job_id, values in cases.items():
        _write_job(jobs, id=job_id, **values)
        job = jobs.get(job_id, owner_id=1)
        assert (job.state, job.error) == (FAILED, "report_jobs.interrupted"), job_id
    # Another live process's job that keeps writing is left alone.
    _write_job(jobs, id="E" * 22, state=RUNNING, runner="other", pid=os.getppid())
    assert jobs.get("E" * 22, owner_id=1).state == RUNNING


def jobs_runner() -> str:
    from hotline.reports import jobs

    return jobs._RUNNER


def test_old_files_are_cleaned_up(tmp_path):
    jobs = ReportJobs(tmp_path / "jobs")
    expired = (datetime.now(UTC) - KEEP_FOR - timedelta(minutes=1)).isoformat()
    _write_job(jobs, id="A" * 22, state=DONE, updated_at=expired)
    (jobs.directory / f"{'A' * 22}.zip").write_bytes(b"zip")
    _write_job(jobs, id="B" * 22, state=DONE)
    (jobs.directory / f"{'B' * 22}.zip").write_bytes(b"zip")
    orphan = jobs.directory / f"{'C' * 22}.part"
    orphan.write_bytes(b"half")
    hour_ago = time.time() - 3600
    os.utime(orphan, (hour_ago, hour_ago))
    fresh = jobs.directory / f"{'D' * 22}.part"
    fresh.write_bytes(b"being written")
    jobs.sweep()
    assert sorted(p.name for p in jobs.directory.iterdir()) == sorted(
        [f"{'B' * 22}.json", f"{'B' * 22}.zip", fresh.name]
    )


def test_shutdown_ends_running_and_queued_jobs_as_interrupted(tmp_path):
    jobs = ReportJobs(tmp_path / "jobs")
    started, release = threading.Event(), threading.Event()

    def slow(target, progress):
        progress(1, 2)
        started.set()
        release.wait(10)
        progress(2, 2)
        target.write(b"never")

    first = jobs.start(owner_id=1, params=[("a", "1")], label="", filename="a.zip", total=2,
                       work=slow)  # fmt: skip
    second = jobs.start(owner_id=1, params=[("a", "2")], label="", filename="b.zip", total=2,
                        work=slow)  # fmt: skip
    assert started.wait(10)
    assert jobs.get(second.id, owner_id=1).state == QUEUED
    threading.Timer(0.2, release.set).start()
    jobs.shutdown()
    for job in (first, second):
        stored = jobs.get(job.id, owner_id=1)
        assert (stored.state, stored.error) == (FAILED, "report_jobs.interrupted")
    assert not list(jobs.directory.glob("*.zip")) and not list(jobs.directory.glob("*.part"))
    with pytest.raises(Conflict):
        jobs.start(owner_id=1, params=[], label="", filename="c.zip", total=1, work=slow)


def test_a_failing_job_says_so(tmp_path, caplog):
    jobs = ReportJobs(tmp_path / "jobs")

    def broken(target, progress):
        raise RuntimeError("WeasyPrint fell over")

    job = jobs.start(owner_id=7, params=[], label="", filename="x.zip", total=1, work=broken)
    deadline = time.monotonic() + 10
    while not (stored := jobs.get(job.id, owner_id=7)).finished and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (stored.state, stored.error) == (FAILED, "report_jobs.failed")
    assert "WeasyPrint fell over" in caplog.text
