"""The FastAPI application factory. Routes stay thin; services hold the use cases."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from twinstudio import __version__
from twinstudio.api import errors
from twinstudio.api.routes import assets, avatars, consent, health, videos, voices, webhooks
from twinstudio.config import Settings, get_settings
from twinstudio.jobs.worker import WorkerPool
from twinstudio.services import looks as looks_service
from twinstudio.services import videos as videos_service  # noqa: F401  (registers the job kind)
from twinstudio.services.context import AppContext, build_context
from twinstudio.webhooks.runner import DeliveryProcess

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, ctx: AppContext | None = None, workers: int | None = None
) -> FastAPI:
    """Build the app. ``workers`` in-process job workers start with it (settings.workers by default)."""
    settings = settings or get_settings()
    context = ctx or build_context(settings)
    count = settings.workers if workers is None else workers

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = WorkerPool(context, count)
        if settings.demo:
            try:
                looks_service.ensure_demo(context)
            except Exception:
                log.exception("could not create the demo look")
        deliveries = DeliveryProcess(settings.db_url, threads=settings.webhook_threads)
        if count:
            pool.start()
            deliveries.start()
        app.state.pool = pool
        try:
            yield
        finally:
            deliveries.shutdown()
            pool.shutdown()

    app = FastAPI(
        title="twinstudio",
        version=__version__,
        description="Self-hosted Digital Twin videos with a HeyGen v3-compatible API.",
        lifespan=lifespan,
    )
    app.state.ctx = context
    errors.install(app)
    for module in (health, consent, avatars, voices, videos, assets, webhooks):
        app.include_router(module.router)
    static = Path(str(files("twinstudio.web").joinpath("static")))
    app.mount("/dashboard", StaticFiles(directory=static, html=True), name="dashboard")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    return app
