"""Fixtures shared by every test module, and the two tiers of the suite.

A test that needs a socket or a subprocess (a sandbox server, a fake GitHub, the entrypoint as a process, act) is in
the `io` tier: the fixtures below mark it so, and a module or test marks itself with `pytest.mark.io` where it opens
one itself. `make check` runs the rest with `--forbid-io`, which makes every socket and subprocess an error, so a test
that needs one and is not marked fails there instead of slowing the quick tier down.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.server import SandboxServer
from tests.support import FakeClock, running_sandbox

# Fixtures that start a server: a test using one is in the io tier.
IO_FIXTURES = {"sandbox", "github"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--forbid-io", action="store_true", help="fail any test that opens a socket or starts a subprocess (make check)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if IO_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.io)


@pytest.fixture(autouse=True)
def _forbid_io(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if not request.config.getoption("--forbid-io"):
        return

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{request.node.nodeid} opens a socket or starts a subprocess: mark it pytest.mark.io")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "bind", refuse)
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """One sandbox server for the session; each action run resets its request log and fault counters."""
    with running_sandbox() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
