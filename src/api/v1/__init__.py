from fastapi import APIRouter

from src.api.v1 import admin, api_keys, auth, calendar, dashboard, events, export, me, notifications, public, tickets

router = APIRouter()
# A request is matched against the routes in this order, one by one: the busiest come first.
router.include_router(tickets.router)
router.include_router(dashboard.router)
router.include_router(events.router)
router.include_router(auth.router)
router.include_router(me.router)
router.include_router(admin.router)
router.include_router(calendar.router)
router.include_router(export.router)
router.include_router(api_keys.router)
router.include_router(public.router)
router.include_router(notifications.router)
