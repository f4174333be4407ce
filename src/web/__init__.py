"""Server-rendered pages over the same services and access policy as the API."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install_web(app: FastAPI) -> None:
    from src.web import (
        routes_account,
        routes_auth,
        routes_citizen,
        routes_dashboard,
        routes_language,
        routes_public,
        routes_reports,
        routes_tickets,
    )
    from src.web.pages import STATIC_DIR

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        routes_auth,
        routes_account,
        routes_dashboard,
        routes_citizen,
        routes_tickets,
        routes_reports,
        routes_public,
        routes_language,
    ):
        app.include_router(module.router)
