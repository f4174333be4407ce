"""Open311 GeoReport v2 routes: parse the arguments, call one service, render JSON or XML."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from src.api.deps import SessionDep
from src.api.open311.formats import FORMATS, render, to_json, to_xml
from src.core.database import get_database
from src.core.rate_limit import OPEN311_POST_PER_KEY, rate_limit
from src.schemas import open311 as args
from src.services import access, api_key_service, open311_service
from src.services.jurisdiction import Jurisdiction, enter_municipality, normal_code
from src.services.public_cache import cached

router = APIRouter(prefix="/v2")
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-29T00:00:00+00:00"


async def read_db() -> AsyncIterator[AsyncSession]:
    """Reads tolerate a moment's lag: the replica when one is configured."""
    async with get_database().anonymous_read_session() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(read_db, scope="function")]


def fmt_of(fmt: str) -> str:
    if fmt not in FORMATS:
        raise access.not_found("Format")
    return fmt


Fmt = Annotated[str, Depends(fmt_of)]


async def open311_rate_limit(api_key_id: uuid.UUID | None) -> None:
    """60 posts per minute per API key (the per-address limit of every call is the middleware's).

    Over the limit, RateLimited (429 `rate_limited`, with `Retry-After`) leaves in the requested
    format (JSON or XML), before the request is turned into a ticket.
    """
    if api_key_id is not None:
        await rate_limit(f"open311:{api_key_id}", OPEN311_POST_PER_KEY)


async def jurisdiction(session: AsyncSession, jurisdiction_id: str | None) -> Jurisdiction:
    if not jurisdiction_id:
        raise args.BadArgument("jurisdiction_id is required (the municipality's code).")
    return await enter_municipality(session, jurisdiction_id)


def _query(j: Jurisdiction, request: Request) -> args.RequestQuery:
    q = request.query_params
    start, end = args.window(q.get("start_date"), q.get("end_date"), j.timezone, datetime.now(UTC))
    return args.RequestQuery(
        ids=args.tracking_numbers(q.get("service_request_id")),
        codes=args.service_codes(q.get("service_code")),
        statuses=args.statuses(q.get("status")),
        start=start,
        end=end,
        page=args.positive_int(q.get("page"), "page", 1),
        page_size=args.positive_int(q.get("page_size"), "page_size", args.MAX_PAGE_SIZE, args.MAX_PAGE_SIZE),
    )


@router.get("/discovery.{fmt}")
async def discovery(fmt: Fmt, request: Request) -> Response:
    base = str(request.url.replace(query="")).rsplit("/", 1)[0] + "/"
    data = {
        "changeset": CHANGESET,
        "contact": "Ask the municipality's service-delivery office; jurisdiction_id is its code.",
        "key_service": "API keys are issued by each municipality's administrators.",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", data)


@router.get("/services.{fmt}")
async def services(fmt: Fmt, session: ReadSession, jurisdiction_id: str | None = None) -> Response:
    await jurisdiction(session, jurisdiction_id)
    return render(fmt, "services", open311_service.services())


@router.get("/services/{code}.{fmt}")
async def service_definition(code: str, fmt: Fmt, session: ReadSession, jurisdiction_id: str | None = None) -> Response:
    await jurisdiction(session, jurisdiction_id)
    return render(fmt, "service_definition", open311_service.service_definition(access.public_service(code)))


@router.post("/requests.{fmt}")
async def post_request(fmt: Fmt, request: Request, session: SessionDep) -> Response:
    form = await _form(request)
    j = await jurisdiction(session, form.get("jurisdiction_id") or request.query_params.get("jurisdiction_id"))
    key = await api_key_service.use_key(session, j.id, form.get("api_key") or request.query_params.get("api_key"))
    await open311_rate_limit(key.id)
    created = await open311_service.create_request(session, j, args.new_request(form), key.id)
    return render(fmt, "service_requests", [created], status=201)


async def _form(request: Request) -> dict[str, str]:
    """Form-urlencoded or multipart fields as text; files (a `media` upload) are not kept."""
    try:
        form = await request.form()
    except Exception:  # a malformed multipart body is the client's error, not ours
        raise args.BadArgument("The request body is not a valid form.") from None
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _listing(fmt: str, kind: str, root: str, request: Request, session: AsyncSession, query) -> Response:
    """A list answer (requests or updates), rendered once and reused for up to 60 s.

    A page of 1,000 requests is half a megabyte to fetch, mask and render, the same for every
    client; so, like the public figures, each process keeps the rendered answer for up to a
    minute (keyed by the municipality, the format and every argument). A request asked for by
    its tracking number (`service_request_id`, or GET /requests/{id}) is always read fresh.
    Invalid arguments are never cached: they raise before anything is stored.
    """

    async def build() -> bytes:
        j = await jurisdiction(session, request.query_params.get("jurisdiction_id"))
        data = await query(session, j, _query(j, request))
        return to_xml(root, data) if fmt == "xml" else to_json(data)

    q = request.query_params
    code = normal_code(q.get("jurisdiction_id"))
    if code is None or q.get("service_request_id"):
        body = await build()
    else:
        arguments = tuple(sorted((k, v) for k, v in q.multi_items() if k != "jurisdiction_id"))
        body = await cached(("open311", kind, fmt, code, arguments), build)
    return Response(body, media_type=FORMATS[fmt])


@router.get("/requests.{fmt}")
async def list_requests(fmt: Fmt, request: Request, session: ReadSession) -> Response:
    return await _listing(fmt, "requests", "service_requests", request, session, open311_service.list_requests)


@router.get("/requests/{request_id}.{fmt}")
async def get_request(request_id: str, fmt: Fmt, session: ReadSession, jurisdiction_id: str | None = None) -> Response:
    j = await jurisdiction(session, jurisdiction_id)
    return render(fmt, "service_requests", [await open311_service.get_request(session, j, request_id)])


@router.get("/tokens/{token}.{fmt}")
async def get_token(token: str, fmt: Fmt, session: ReadSession, jurisdiction_id: str | None = None) -> Response:
    j = await jurisdiction(session, jurisdiction_id)
    return render(fmt, "service_requests", [await open311_service.token(session, j, token)])


@router.get("/servicerequestupdates.{fmt}")
async def updates(fmt: Fmt, request: Request, session: ReadSession) -> Response:
    return await _listing(fmt, "updates", "service_request_updates", request, session, open311_service.list_updates)
