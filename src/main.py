"""The application: middleware, error handlers, routers."""

import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from src.api.open311 import create_open311_app
from src.api.v1 import router as api_router
from src.core.config import get_settings
from src.core.database import get_database
from src.core.handlers import install_error_handlers
from src.core.lifespan import lifespan
from src.core.log_hygiene import install_log_hygiene
from src.core.middleware import BodySizeLimit, RequestRateLimits, SecurityHeaders
from src.web import install_web

log = logging.getLogger("khanyisa")


def create_app() -> FastAPI:
    docs = get_settings().api_docs
    app = FastAPI(
        title="Khanyisa",
        version="1.0.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    install_error_handlers(app)
    install_log_hygiene()
    # Added last runs first: headers wrap everything, then rate limits, then the body limit.
    app.add_middleware(BodySizeLimit)
    app.add_middleware(RequestRateLimits)
    app.add_middleware(SecurityHeaders)

    @app.get("/health", tags=["health"])
    async def health() -> JSONResponse:
        """200 once the database answers; 503 while it does not (load balancers take the process out)."""
        try:
            async with get_database().engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            log.warning("health check: the database does not answer")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    app.include_router(api_router, prefix="/api/v1")
    app.mount("/open311", create_open311_app())
    install_web(app)
    return app


app = create_app()
