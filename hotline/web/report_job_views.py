"""HTML views of the report's background downloads: start the bill-basis zip, follow, fetch it."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy.orm import Session

from hotline.auth.deps import require_roles
from hotline.auth.models import Role, User
from hotline.db import TransactionRoute, request_session
from hotline.reports.bill_job import start_bill_zip
from hotline.reports.filters import MAX_CODES, checked_filters
from hotline.reports.jobs import ReportJob, ReportJobs
from hotline.web.templating import render

router = APIRouter(route_class=TransactionRoute, include_in_schema=False)
report_reader = require_roles(Role.SUPERVISOR, Role.SYSTEM_ADMIN)
SHOWN_JOBS = 3
REFRESH_SECONDS = 2  # the page without script reloads itself this often while the job runs
JOB_ID = Path(max_length=40)


def report_jobs(request: Request) -> ReportJobs:
    """This server's jobs (made by the app's lifespan)."""
    return request.app.state.report_jobs


def recent_jobs(request: Request, user: User) -> list[ReportJob]:
    """The user's newest background downloads, for the report page."""
    return report_jobs(request).jobs_of(user.id)[:SHOWN_JOBS]


@router.post("/supervisor/report-jobs")
def start_report_job(
    request: Request,
    start: str = Form(alias="from", max_length=10),
    end: str = Form(alias="to", max_length=10),
    municipality: list[str] = Form(default_factory=list, max_length=MAX_CODES),
    region: str | None = Form(None, max_length=4),
    session: Session = request_session,
    user: User = Depends(report_reader),
):
    """Start the zip of the bill bases of the report's filters; htmx gets the user's jobs."""
    filters = checked_filters(start, end, municipality, region)
    job = start_bill_zip(
        report_jobs(request),
        session=session,
        filters=filters,
        owner_id=user.id,
        letterheads_dir=request.app.state.settings.letterheads_dir,
    )
    if request.headers.get("HX-Request"):
        jobs = recent_jobs(request, user)
        return _no_store(render(request, "supervisor/_report_jobs.html", report_jobs=jobs))
    return RedirectResponse(f"/supervisor/report-jobs/{job.id}", status_code=303)


@router.get("/supervisor/report-jobs/{job_id}")
def report_job(request: Request, job_id: str = JOB_ID, user: User = Depends(report_reader)):
    """A job's progress: htmx polls the fragment; without script the page reloads itself."""
    job = report_jobs(request).get(job_id, owner_id=user.id)
    if request.headers.get("HX-Request"):
        return _no_store(render(request, "supervisor/_report_job.html", job=job, poll=True))
    response = render(
        request,
        "supervisor/report_job.html",
        user=user,
        nav="reports",
        job=job,
        poll=False,
        back_url="/supervisor?" + urlencode([tuple(pair) for pair in job.params]),
    )
    if not job.finished:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return _no_store(response)


@router.get("/supervisor/report-jobs/{job_id}/download")
def download_report_job(
    request: Request, job_id: str = JOB_ID, user: User = Depends(report_reader)
):
    """The finished zip, for the user who started it."""
    jobs = report_jobs(request)
    job = jobs.get(job_id, owner_id=user.id)
    return FileResponse(
        jobs.file(job),
        media_type="application/zip",
        filename=job.filename,
        headers={"Cache-Control": "no-store"},
    )


def _no_store(response):
    """A job's state changes from one second to the next, and the page differs for htmx."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request"
    return response
