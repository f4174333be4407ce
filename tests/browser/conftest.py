"""Browser tests: a real server process and Debian's Chromium driven by Playwright.

One uvicorn process serves the test database on a free localhost port (it can be restarted
on the same port to test reconnection); one browser serves the whole session and each test
gets a fresh context (its own cookies). Chromium comes from the system (`chromium` package);
Playwright's own browser download is never used.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
START_GUARD_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`uvicorn src.main:app` in a child process, as `make run` serves it."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": os.environ["SECRET_KEY"],  # the tests mint tokens with the same key
            "SLA_SWEEP_SECONDS": "0",
            "COOKIE_SECURE": "false",
            "MEDIA_DIR": str(log_path.parent / "media"),  # photos uploaded by the tests stay in their temp dir
        }
        self.env.pop("DATABASE_READ_URL", None)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "src.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--timeout-graceful-shutdown",
                "3",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_GUARD_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log_path}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(database_url, tmp_path_factory.mktemp("server") / "uvicorn.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def visits_public_figures(live_server: LiveServer) -> Iterator[None]:
    """For tests that open /public: the server caches the public figures in its process for a
    minute, so it is restarted afterwards and later tests see their own data, not this test's."""
    yield
    live_server.restart()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[object]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.fail("Chromium is not installed: apt-get install -y chromium (.ci/run installs it)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest.fixture
async def context(browser, live_server):
    ctx = await browser.new_context(
        base_url=live_server.url,
        locale="en-ZA",
        timezone_id="Africa/Johannesburg",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context):
    p = await context.new_page()
    yield p


@pytest.fixture
async def api(live_server) -> AsyncIterator[httpx.AsyncClient]:
    """The JSON API of the same server: what the figures are checked against."""
    async with httpx.AsyncClient(base_url=live_server.url + "/api/v1", timeout=30) as client:
        yield client


async def sign_in(page, actor, password: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email").fill(actor.user.email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/login" not in url)
