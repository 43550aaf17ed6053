"""The application factory."""

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError

from hotline.config import Settings
from hotline.db import make_engine, make_sessionmaker
from hotline.kit.security import (
    BodySizeLimitMiddleware,
    SecurityHeadersMiddleware,
    SessionUnlessBearerMiddleware,
)
from hotline.models import install_listeners
from hotline.web.error_pages import add_error_handlers

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app: routers, middleware, error handlers; the lifespan opens the database."""
    settings = settings or Settings()
    install_listeners()  # the app's sessions, its workers' and its export workers'
    if insecure := settings.insecure_defaults():
        raise RuntimeError(
            f"Set {' and '.join(insecure)}: the defaults are public (only demo mode may use them)."
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from hotline.documents import render_pool
        from hotline.documents.harfbuzz import warn_if_harfbuzz_subset_missing
        from hotline.kit.logging import install_cpr_log_filter
        from hotline.reports import export_pool

        install_cpr_log_filter()  # before anything logs: a CPR number never reaches a log
        warn_if_harfbuzz_subset_missing()
        render_pool.configure(settings.render_processes)  # PDFs off the event loop's process
        export_pool.configure(settings.export_processes)  # and the call-detail exports
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.resolved_database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        await asyncio.to_thread(_prime_rule_cache, app)
        from hotline.calls.events import CallsFeed
        from hotline.calls.presence import OpenConsoles
        from hotline.reports.jobs import ReportJobs
        from hotline.web.live_renders import LiveRenders

        app.state.calls_feed = CallsFeed(engine)  # wakes the live streams (console, board)
        app.state.live_renders = LiveRenders(app.state.sessionmaker)  # what the streams show
        app.state.open_consoles = OpenConsoles()  # kept present by the presence worker
        # The report's zips made in the background; a job lives as long as this process.
        report_jobs = app.state.report_jobs = ReportJobs(settings.data_dir / "report-jobs")
        async with app.state.calls_feed.running(), _background_workers(app):
            yield
        await asyncio.to_thread(report_jobs.shutdown)
        engine.dispose()

    from hotline.mail.transports import MailURLError, check_mail_url

    try:
        check_mail_url(settings.resolved_mail_url)
    except MailURLError as exc:
        raise RuntimeError(f"HOTLINE_MAIL_URL: {exc}") from None

    # /docs is our own page over vendored Swagger UI (web/api_docs_views.py); FastAPI's pages
    # load their scripts from a CDN, which the CSP blocks. No ReDoc: one description is enough.
    app = FastAPI(
        title="Hotline", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.add_middleware(
        SessionUnlessBearerMiddleware,
        secret_key=settings.secret_key,
        session_cookie="hotline_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.cookies_secure,
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, cacheable=("/static/",))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    add_error_handlers(app)
    # The routers' routes as they are, built once per process: included, FastAPI would build each
    # again for every app at its first request (a quarter of a second; the tests make hundreds).
    for router in _routers():
        app.router.routes.extend(router.routes)
    return app


def _prime_rule_cache(app: FastAPI) -> None:
    from hotline.rules.cache import prime
    from hotline.rules.search.vocabulary import vocabulary_for

    try:
        with app.state.sessionmaker() as session:
            log.info("rule cache primed with %d rules", prime(session))
            # The search's vocabulary too, so the first search after a start is not the slow one.
            log.info("search vocabulary of %d documents", vocabulary_for(session).documents)
    except SQLAlchemyError as exc:  # e.g. not migrated yet: requests will say so
        log.warning("rule cache not primed: %s", exc)


def _routers():
    from hotline.audit.api import router as audit_api
    from hotline.auth.account_api import router as account_api
    from hotline.calls.api import router as calls_api
    from hotline.calls.callbacks_api import router as callbacks_api
    from hotline.calls.reasons_api import router as contact_reasons_api
    from hotline.health import router as health
    from hotline.insight.api import router as insight_api
    from hotline.insight.survey_api import router as survey_api
    from hotline.letters.api import router as letters_api
    from hotline.municipalities.api import router as municipalities_api
    from hotline.privacy.api import router as privacy_api
    from hotline.reports.api import router as reports_api
    from hotline.reports.bill_api import router as bill_api
    from hotline.reports.calls_api import router as call_detail_api
    from hotline.reports.rates_api import router as cost_rates_api
    from hotline.rules.api import router as rules_api
    from hotline.rules.drafts_api import router as rule_drafts_api
    from hotline.rules.flags_api import router as rule_flags_api
    from hotline.rules.synonyms_api import router as synonyms_api
    from hotline.web.routes import routers as web_routers

    return [
        rules_api,  # first: an agent's console resolves rules far more often than anything else
        health,
        calls_api,
        callbacks_api,
        contact_reasons_api,
        municipalities_api,
        rule_drafts_api,
        rule_flags_api,
        synonyms_api,
        letters_api,
        reports_api,
        audit_api,
        insight_api,
        bill_api,
        call_detail_api,
        cost_rates_api,
        privacy_api,
        account_api,
        survey_api,
        *web_routers,
    ]


@asynccontextmanager
async def _background_workers(app: FastAPI):
    """Run the outbox, the daily purge (each unless disabled), the presence check, the CTI sweep."""
    from hotline.letters.outbox import run_outbox_worker
    from hotline.privacy.retention import run_purge_worker

    settings: Settings = app.state.settings
    workers = []
    if settings.outbox_worker:
        workers.append(run_outbox_worker(app.state.sessionmaker, settings))
    if settings.purge_worker:
        workers.append(run_purge_worker(app.state.sessionmaker, settings))
    callback_mail = settings.callback_mail_worker
    if settings.outbox_worker if callback_mail is None else callback_mail:
        from hotline.calls.callback_mail import run_callback_mail_worker

        workers.append(run_callback_mail_worker(app.state.sessionmaker, settings))
    bill_mail = settings.bill_mail_worker
    if settings.outbox_worker if bill_mail is None else bill_mail:
        from hotline.monthly.worker import run_monthly_mail_worker

        # The bill bases and the insight reports, made on the 1st and sent to the municipalities.
        workers.append(run_monthly_mail_worker(app.state.sessionmaker, settings))
    from hotline.calls.cti_sweep import run_cti_sweep_worker
    from hotline.calls.presence import run_presence_worker

    gone_after = timedelta(seconds=settings.console_gone_after_s)
    consoles = app.state.open_consoles
    workers.append(run_presence_worker(app.state.sessionmaker, gone_after, consoles))
    # Waiting calls the phone system went silent about: no ghost stays at the head of the queue.
    workers.append(run_cti_sweep_worker(app.state.sessionmaker, settings))
    tasks = [asyncio.create_task(worker) for worker in workers]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
