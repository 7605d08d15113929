"""A local emulation of the vendors' APIs, for the tests and the demo. Never used in production."""

from __future__ import annotations

from sandbox.aiva import AivaEmulator
from sandbox.autosana import AutosanaEmulator
from sandbox.kapptivate import KapptivateEmulator
from sandbox.server import Emulator, SandboxServer
from sandbox.storage import Storage
from sandbox.test_lab import TestLabEmulator
from sandbox.testclix import TestClixEmulator


def emulators(storage: Storage) -> list[Emulator]:
    return [AivaEmulator(), AutosanaEmulator(storage), KapptivateEmulator(), TestLabEmulator(), TestClixEmulator()]


def make_server(host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """A sandbox server bound to host:port (port 0 picks a free one); call serve_forever()."""
    storage = Storage()
    return SandboxServer((host, port), emulators(storage), storage)
