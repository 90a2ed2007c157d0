"""The FastAPI app factory: settings in, a wired app out (database, templates, routers, error mapping)."""

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

import bot
import digest
import intake
import triage
from bot import pages as bot_pages
from bot.webhook import mount_bot
from digest import pages as digest_pages
from digest.jobs import scheduler_health
from hotline.limits import BodySizeLimit
from hotline.observability import Metrics, RequestContext
from hotline.settings import Settings
from intake import api as intake_api
from intake import open311
from intake import pages as intake_pages
from intake import phone as intake_phone
from intake.auto_triage import BackgroundTriage
from models import crypto
from models.base import utcnow
from models.db import make_engine, make_sessionmaker
from triage.errors import Conflict, HotlineError, Unauthenticated, Unavailable
from triage.web import api as staff_api
from triage.web import pages as staff_pages
from triage.web.rendering import render

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).parent / "web"
TEMPLATE_DIRS = [
    WEB_DIR / "templates",
    Path(bot.__file__).parent / "templates",
    Path(digest.__file__).parent / "templates",
    Path(intake.__file__).parent / "templates",
    Path(triage.__file__).parent / "web" / "templates",
]


def default_analyser(sessions: sessionmaker[Session], data_dir: Path, warm: bool = True) -> Any:
    """The triage engine's `analyse`, pointed at this database; optionally built in the background now,
    so the first tip after start-up does not wait for the register index."""
    from triage import analysis

    analysis.configure(sessions, data_dir)
    if warm:
        threading.Thread(target=analysis.current_engine, name="triage-warm-up", daemon=True).start()
    return analysis.analyse


HTTP_ERRORS = {
    400: ("请求格式不正确：请求体不是有效的JSON", "invalid_request"),
    404: ("页面或接口不存在", "not_found"),
    405: ("不支持此请求方法", "method_not_allowed"),
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/open311/"))


def _error_response(request: Request, exc: HotlineError) -> Response:
    if request.url.path.startswith("/open311/"):
        return open311.error_response(exc)
    if _is_api(request):
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)
    if isinstance(exc, Unauthenticated) and request.method == "GET":
        return RedirectResponse(f"/staff/login?next={request.url.path}", status_code=303)
    return render(request, "error.html", status_code=exc.status, message=exc.message, code=exc.code)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start triage with the process (it sweeps tips left pending) and finish its queue on shutdown."""
    triage_worker: BackgroundTriage | None = app.state.triage
    if triage_worker is not None:
        triage_worker.start()
    try:
        yield
    finally:
        if triage_worker is not None:
            await asyncio.to_thread(triage_worker.stop)


def create_app(settings: Settings | None = None, analyser: Any = "default") -> FastAPI:
    settings = settings or Settings()
    crypto.configure(settings.reporter_keys())
    crypto.configure_lookup_secret(settings.secret_key)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    app = FastAPI(
        lifespan=_lifespan,
        title="河源市12345 落后产能举报 API",
        version="1.0",
        description="Citizen tips about outdated capacity (落后产能): intake, status, staff work orders.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    app.state.intake_config = settings.intake_config()
    app.state.analyser = (
        default_analyser(app.state.sessions, settings.data_dir) if analyser == "default" else analyser
    )
    # New tips are analysed in a background thread of this process, in batches under load.
    app.state.triage = (
        BackgroundTriage(
            app.state.sessions,
            app.state.analyser,
            app.state.intake_config.tz,
            orphan_after=timedelta(seconds=settings.triage_orphan_seconds),
        )
        if app.state.analyser is not None
        else None
    )
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in TEMPLATE_DIRS]),
        autoescape=select_autoescape(default=True),
    )
    app.state.templates = Jinja2Templates(env=env)

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="hotline_session",
        max_age=8 * 3600,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(
        BodySizeLimit,
        json_limit=1024 * 1024,
        upload_limit=settings.max_photos * settings.max_photo_bytes + 1024 * 1024,
    )
    metrics = Metrics(app.state.sessions)
    app.add_middleware(RequestContext, metrics=metrics)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    @app.exception_handler(HotlineError)
    async def hotline_error(request: Request, exc: HotlineError) -> Response:
        return _error_response(request, exc)

    @app.exception_handler(StaleDataError)
    async def stale(request: Request, exc: StaleDataError) -> Response:
        return _error_response(request, Conflict("此工单已被他人更新，请刷新页面后重试", "stale_version"))

    @app.exception_handler(OperationalError)
    @app.exception_handler(SAInterfaceError)
    async def database_down(request: Request, exc: Exception) -> Response:
        log.error("database unavailable: %s", exc)
        return _error_response(
            request, Unavailable("系统繁忙，请稍后重试（数据库暂时不可用）", "database_unavailable")
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Framework errors (unknown path, wrong method, a body that is not JSON) in our own format."""
        message, code = HTTP_ERRORS.get(exc.status_code, ("请求无法处理", "http_error"))
        problem = HotlineError(message, code)
        problem.status = exc.status_code
        return _error_response(request, problem)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "body" for e in exc.errors())
        problem = HotlineError(f"请求格式不正确：{fields}", "invalid_request")
        problem.status = 422
        return _error_response(request, problem)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> Response:
        """200 while the database answers (load balancers keep the worker); the scheduler part informs."""
        try:
            with app.state.sessions() as session:
                session.execute(text("SELECT 1"))
                scheduler = scheduler_health(session, utcnow())
        except Exception:  # any failure means "not healthy"
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "scheduler": scheduler})

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def prometheus_metrics() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    app.include_router(intake_api.router)
    app.include_router(intake_pages.router)
    app.include_router(intake_phone.router)
    app.include_router(staff_api.router)
    app.include_router(open311.router)
    app.include_router(bot_pages.router)
    app.include_router(digest_pages.router)
    mount_bot(app, settings)
    app.include_router(staff_pages.router)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    return app
