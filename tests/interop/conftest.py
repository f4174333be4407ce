"""A real server process for the Open311 client libraries, which speak blocking HTTP."""

from collections.abc import Iterator

import pytest

from tests.browser.conftest import LiveServer


@pytest.fixture(scope="session")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(database_url, tmp_path_factory.mktemp("open311-server") / "uvicorn.log")
    server.start()
    yield server
    server.stop()
