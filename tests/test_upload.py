"""Streaming a build to storage when the build or the storage misbehaves: a file that changes while it is sent, storage
that stops reading or never answers. Against the sandbox's storage and a raw socket that counts every byte it gets."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from suiterun.clock import Deadline, SystemClock
from suiterun.errors import TimeoutReached
from suiterun.secrets import Secrets
from suiterun.upload import BLOCK, BuildChanged, UploadError, _FileBody, put_file
from tests.hostile import Answer, hostile_server
from tests.support import FakeClock, TickingClock

pytestmark = pytest.mark.io  # every test here runs a server or a process

MIB = 1024 * 1024


def build_file(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "app.apk"
    path.write_bytes(b"\x5a" * size)
    return path


def upload(
    path: Path, url: str, *, on_progress: Callable[[], object] | None = None, stall_seconds: float = 30, read_timeout: float = 60
) -> list[str]:
    """put_file with one attempt; `on_progress` runs at the first progress line (the upload is under way then)."""
    lines: list[str] = []

    def log(line: str) -> None:
        if " MiB (" in line and not any(" MiB (" in earlier for earlier in lines) and on_progress:
            on_progress()
        lines.append(line)

    clock = TickingClock()
    put_file(
        path,
        url,
        deadline=Deadline.after(clock, 10_000),
        log=log,
        label="upload",
        secrets=Secrets(),
        attempts=1,
        stall_seconds=stall_seconds,
        read_timeout=read_timeout,
    )
    return lines


# --- A build that changes while it is sent ---


def test_a_build_cut_short_while_it_is_sent_ends_the_upload_at_once(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = build_file(tmp_path, 8 * MIB)
    url = sandbox.storage.presign(sandbox.url, "b/cut.apk", frozenset())
    started = time.monotonic()
    with pytest.raises(BuildChanged) as raised:
        upload(path, url, on_progress=lambda: path.write_bytes(b"\x5a" * MIB))
    assert time.monotonic() - started < 5  # not the timeout: at once
    assert str(raised.value).startswith("upload: app.apk changed while it was being uploaded: it ended after ")
    assert str(raised.value).endswith("of the 8.0 MiB it had when the upload began; upload the build only once the step that writes it has finished.")
    assert sandbox.storage.uploaded("b/cut.apk") is None


def test_a_build_that_grows_while_it_is_sent_is_refused_and_no_byte_past_its_length_is_sent(tmp_path: Path) -> None:
    path = build_file(tmp_path, 3 * BLOCK + 10)
    with path.open("rb") as file:
        body = _FileBody(file, path.stat().st_size, FakeClock(), lambda line: None, "upload")
        sent = 0
        with pytest.raises(BuildChanged, match=r"^upload: app.apk changed while it was being uploaded: it grew past the 768.0 KiB"):
            for block in body:
                sent += len(block)
                if sent == BLOCK:
                    with path.open("ab") as growing:
                        growing.write(b"more" * BLOCK)
    assert sent == 3 * BLOCK + 10


def test_a_build_that_grows_while_it_is_sent_is_an_error_against_storage(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = build_file(tmp_path, 8 * MIB)
    url = sandbox.storage.presign(sandbox.url, "b/grown.apk", frozenset())

    def grow() -> None:
        with path.open("ab") as growing:
            growing.write(b"\x00" * MIB)

    with pytest.raises(BuildChanged, match=re.escape("app.apk changed while it was being uploaded: it grew past the 8.0 MiB")):
        upload(path, url, on_progress=grow)


def test_the_body_is_sent_in_blocks_of_its_own_size(tmp_path: Path) -> None:
    # 16 KiB pieces (what urllib3 reads from a file) cost the upload a third of curl's speed.
    path = build_file(tmp_path, 2 * BLOCK + 1)
    with path.open("rb") as file:
        blocks = [len(block) for block in _FileBody(file, 2 * BLOCK + 1, FakeClock(), lambda line: None, "upload")]
    assert blocks == [BLOCK, BLOCK, 1]


# --- Storage that stops reading, or never answers ---


@dataclass
class RawStorage:
    """A socket that reads the request, `read_at_most` bytes of it, then stops reading (and never answers)."""

    read_at_most: int
    received: int = 0
    port: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/_storage/slot?X-Amz-Signature=sig0123456789"

    def serve(self, listener: socket.socket) -> None:
        connection, _ = listener.accept()
        with connection:
            while self.received < self.read_at_most:
                data = connection.recv(min(65536, self.read_at_most - self.received))
                if not data:
                    return
                self.received += len(data)
            self.stop.wait(30)


@contextmanager
def raw_storage(read_at_most: int) -> Iterator[RawStorage]:
    storage = RawStorage(read_at_most)
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        storage.port = listener.getsockname()[1]
        thread = threading.Thread(target=storage.serve, args=(listener,), daemon=True)
        thread.start()
        try:
            yield storage
        finally:
            storage.stop.set()
            thread.join(5)


def test_storage_that_stops_reading_is_named_so_after_the_stall_limit(tmp_path: Path) -> None:
    path = build_file(tmp_path, 48 * MIB)  # far more than the socket buffers hold
    with raw_storage(read_at_most=2 * MIB) as storage:
        started = time.monotonic()
        with pytest.raises(UploadError) as raised:
            upload(path, storage.url, stall_seconds=0.5)
        elapsed = time.monotonic() - started
    message = str(raised.value)
    assert message.startswith(f"upload: storage at 127.0.0.1:{storage.port} stopped reading after ")
    assert message.endswith(" of 48.0 MiB (nothing more accepted for 0.5s); gave up after 1 attempt.")
    assert elapsed < 10, elapsed
    assert "sig0123456789" not in message


def test_storage_that_takes_the_whole_file_and_never_answers_is_named_so(tmp_path: Path) -> None:
    path = build_file(tmp_path, 64 * 1024)
    with raw_storage(read_at_most=10 * MIB) as storage, pytest.raises(UploadError) as raised:
        upload(path, storage.url, stall_seconds=2, read_timeout=0.5)
    assert (
        str(raised.value)
        == f"upload: storage at 127.0.0.1:{storage.port} took all 64.0 KiB but did not answer (ReadTimeout); gave up after 1 attempt."
    )


def test_a_put_that_storage_never_answers_ends_at_the_deadline(tmp_path: Path) -> None:
    path = build_file(tmp_path, 64 * 1024)
    with hostile_server(lambda method, path: Answer(hang=True)) as storage:
        started = time.monotonic()
        with pytest.raises(TimeoutReached, match=r"^upload: the upload of app.apk to .* had not finished when the timeout passed\.$"):
            put_file(
                path,
                f"{storage.url}/_storage/slot?X-Amz-Signature=sig0123456789",
                deadline=Deadline.after(SystemClock(), 1.5),
                log=lambda line: None,
                label="upload",
                secrets=Secrets(),
            )
        elapsed = time.monotonic() - started
        assert [method for method, _ in storage.requests] == ["PUT"]
    assert 1.4 < elapsed < 5, elapsed  # the deadline, not storage's 60 s read timeout
