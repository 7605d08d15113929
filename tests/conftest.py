"""Fixtures shared by every test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.server import SandboxServer
from tests.support import FakeClock, running_sandbox


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """One sandbox server for the session; each action run resets its request log and fault counters."""
    with running_sandbox() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
