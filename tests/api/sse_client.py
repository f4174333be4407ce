"""Reading a Server-Sent Events stream straight from the ASGI app.

httpx's ASGI transport waits for the whole body, which an event stream never finishes, so this
drives the app through the same ASGI interface and hands out events as they are sent; leaving
the context sends `http.disconnect`, as a browser closing the tab would.
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

GUARD_SECONDS = 15.0  # a safety net against a hung test, not a timing assertion


@dataclass
class Event:
    name: str
    data: str
    retry: int | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.data)


class SseStream:
    def __init__(
        self, app: Any, url: str, headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None
    ):
        self.app = app
        parts = urlsplit(url)
        self.path, self.query = parts.path, parts.query
        self.headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if cookies:
            self.headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.disconnected = asyncio.Event()
        self.buffer = ""
        self.comments: list[str] = []
        self.body = b""

    async def __aenter__(self) -> "SseStream":
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": self.query.encode(),
            "headers": self.headers,
            "root_path": "",
            "server": ("test", 80),
            "client": ("127.0.0.1", 40000),
        }
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self.disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            await self.messages.put(message)

        self.task = asyncio.create_task(self.app(scope, receive, send))
        start = await asyncio.wait_for(self.messages.get(), GUARD_SECONDS)
        self.status = start["status"]
        self.response_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        if self.status != 200:  # an error answer is short: read all of it
            while True:
                msg = await asyncio.wait_for(self.messages.get(), GUARD_SECONDS)
                self.body += msg.get("body", b"")
                if not msg.get("more_body"):
                    break
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.disconnected.set()
        await asyncio.wait_for(self.task, GUARD_SECONDS)

    async def next_event(self) -> Event:
        """The next event, skipping comment lines (the keep-alive pings)."""
        while True:
            sep = self.buffer.find("\r\n\r\n")
            if sep >= 0:
                block, self.buffer = self.buffer[:sep], self.buffer[sep + 4 :]
                event = self._parse(block)
                if event is not None:
                    return event
                continue
            msg = await asyncio.wait_for(self.messages.get(), GUARD_SECONDS)
            self.buffer += msg.get("body", b"").decode()

    async def next_ticket_event(self) -> Event:
        """The next event about a ticket, skipping `ready` and `resync`."""
        while True:
            event = await self.next_event()
            if event.name not in ("ready", "resync"):
                return event

    def _parse(self, block: str) -> Event | None:
        name, data, retry = "message", [], None
        for line in block.split("\r\n"):
            if line.startswith(":"):
                self.comments.append(line)
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
            elif field == "retry":
                retry = int(value)
        if not data and retry is None and name == "message":
            return None
        return Event(name, "\n".join(data), retry)
