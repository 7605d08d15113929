"""Streaming a build file to a presigned storage URL: no credentials, bounded by the deadline, progress, whole-PUT retries.

A presigned URL carries its own signature (in the query), so the request carries no API key and no Authorization header,
follows no redirect, and the query is never printed. Storage wants a Content-Length (it refuses chunked transfer), so the
body is the open file with its size: it streams from disk in blocks, and memory stays flat whatever the build's size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit, urlunsplit

import requests

from suiterun.clock import Clock, Deadline
from suiterun.concurrency import Overdue
from suiterun.errors import TimeoutReached, VendorError
from suiterun.http import Limits, NoTimeLeft, backoff, bounded_request, caused_by, http_session
from suiterun.http_debug import HttpDebug
from suiterun.results import plural
from suiterun.secrets import Secrets
from suiterun.text import format_size, one_line

PROGRESS_EVERY = 10.0  # seconds between progress lines while uploading
MIB = 1024 * 1024
# Bytes per read and send. Few enough sends that the upload keeps pace with curl; small enough that a connection
# that moves at all sends one within STALL_SECONDS (a send's timeout covers the whole block).
BLOCK = 256 * 1024
STALL_SECONDS = 30.0  # connecting, or sending one block, with no progress for this long: storage stopped reading


class UploadError(VendorError):
    """Storage refused the file, or could not be reached after the retries."""


class BuildChanged(UploadError):
    """The file was shorter or longer than when the upload began: another step was still writing it."""


def without_query(url: str) -> str:
    """The URL as it may be printed: without the query, where a presigned URL keeps its signature."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class _NoCredentials(requests.auth.AuthBase):
    """An explicit 'no authentication', so requests never takes a password from ~/.netrc for the storage host."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


class _FileBody:
    """The file as a request body: exactly `size` bytes (what the Content-Length declares), read and sent in BLOCK
    pieces, with a progress line at most every PROGRESS_EVERY. A file that ends early or holds more than `size` bytes
    was changed while it was sent: that ends the upload at once, and never sends a byte past `size`."""

    def __init__(self, file: BinaryIO, size: int, clock: Clock, log: Callable[[str], None], label: str) -> None:
        self.file, self.size, self.clock, self.log, self.label = file, size, clock, log, label
        self.name = Path(file.name).name
        self.started = False  # the connection was open and the body began
        self.accepted = 0  # bytes the connection took (each block counts once its send returned)
        self.began = self.last = clock.monotonic()

    def __len__(self) -> int:  # requests declares the Content-Length from it...
        return self.size

    def __iter__(self) -> Iterator[bytes]:  # ...and urllib3 sends each block as it comes (a body with read() goes in 16 KiB pieces)
        self.started = True
        while self.accepted < self.size:
            block = self.file.read(min(BLOCK, self.size - self.accepted))
            if not block:
                raise BuildChanged(
                    f"{self.label}: {self.name} changed while it was being uploaded: it ended after "
                    f"{format_size(self.accepted)} of the {format_size(self.size)} it had when the upload began; "
                    "upload the build only once the step that writes it has finished."
                )
            yield block
            self.accepted += len(block)
            self._progress()
        if self.file.read(1):
            raise BuildChanged(
                f"{self.label}: {self.name} changed while it was being uploaded: it grew past the {format_size(self.size)} "
                "it had when the upload began; upload the build only once the step that writes it has finished."
            )

    def _progress(self) -> None:
        now = self.clock.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            rate = self.accepted / MIB / max(now - self.began, 1e-9)
            share = self.accepted * 100 // max(self.size, 1)
            self.log(f"{self.label}: {self.accepted / MIB:.1f} of {self.size / MIB:.1f} MiB ({share}%), {rate:.1f} MiB/s")

    def describe_failure(self, exc: requests.RequestException, host: str, stall_seconds: float) -> str:
        """What went wrong, from how far the body got: storage never reached, stopped reading, or silent at the end."""
        if not self.started:
            return f"could not reach storage at {host} ({type(exc).__name__})"
        sent = f"{format_size(self.accepted)} of {format_size(self.size)}"
        if self.accepted >= self.size:
            return f"storage at {host} took all {format_size(self.size)} but did not answer ({type(exc).__name__})"
        if caused_by(exc, TimeoutError, requests.Timeout):
            return f"storage at {host} stopped reading after {sent} (nothing more accepted for {stall_seconds:g}s)"
        return f"storage at {host} closed the connection after {sent} ({type(exc).__name__})"


def put_file(
    path: Path,
    url: str,
    *,
    deadline: Deadline,
    log: Callable[[str], None],
    label: str,
    secrets: Secrets,
    debug: HttpDebug | None = None,
    attempts: int = 3,
    stall_seconds: float = STALL_SECONDS,
    read_timeout: float = 60.0,
) -> None:
    """PUT the file's bytes to `url`. A connection error or a 5xx is retried as a whole PUT (at most `attempts`, after a
    short backoff), a 4xx is not, nor a file that changed while it was sent; the whole upload, waits and retries
    included, ends by the deadline (then TimeoutReached). Connecting, and each block sent, may take `stall_seconds`
    without progress; storage's answer after the last byte, `read_timeout`. What storage says is redacted with
    `secrets` before it is cut. Each attempt's debug line goes to `debug`, when debugging is on."""
    size = path.stat().st_size
    where, host = without_query(url), urlsplit(url).netloc
    with http_session() as storage:  # a session of its own: nothing of the vendor's (headers, cookies) reaches storage
        for attempt in range(1, attempts + 1):
            log(f"{label}: uploading {path.name} ({format_size(size)}) to {where}" + (f", attempt {attempt} of {attempts}" if attempt > 1 else ""))
            with path.open("rb") as file:
                body = _FileBody(file, size, deadline.clock, log, label)
                try:
                    response = bounded_request(
                        storage,
                        "PUT",
                        url,
                        deadline=deadline,
                        debug=debug,
                        # urllib3 sends the body under the connect timeout: it is the stall limit of each block too.
                        limits=Limits(connect=stall_seconds, read=read_timeout, whole=math.inf),
                        data=body,
                        headers={"Content-Type": "application/octet-stream"},
                        auth=_NoCredentials(),
                    )
                except NoTimeLeft:
                    raise TimeoutReached(f"{label}: no time left to upload {path.name} to {where} before the timeout.") from None
                except Overdue:
                    raise TimeoutReached(f"{label}: the upload of {path.name} to {where} had not finished when the timeout passed.") from None
                except requests.RequestException as exc:
                    problem = body.describe_failure(exc, host, stall_seconds)
                    if attempt == attempts:
                        raise UploadError(f"{label}: {problem}; gave up after {plural(attempts, 'attempt')}.") from None
                    _wait_to_retry(deadline, attempt, problem, log, label)
                    continue
            status = response.status_code
            if status < 300:
                log(f"{label}: uploaded {path.name} ({format_size(size)})")
                return
            if 300 <= status < 400:
                raise UploadError(f"{label}: storage answered HTTP {status} (a redirect, which is not followed) to the upload of {path.name}.")
            said = _storage_message(secrets.redact(response.text))
            if status >= 500 and attempt < attempts:
                _wait_to_retry(deadline, attempt, f"storage answered HTTP {status}", log, label)
                continue
            tries = f" (attempt {attempt} of {attempts})" if status >= 500 else ""
            raise UploadError(f"{label}: storage answered HTTP {status}{tries} to the upload of {path.name}{f': {said}' if said else ''}.")
    raise AssertionError("unreachable")  # pragma: no cover - the last attempt returns or raises


def _wait_to_retry(deadline: Deadline, attempt: int, problem: str, log: Callable[[str], None], label: str) -> None:
    """A short backoff (cut to the deadline) before the whole PUT again: storage that answered 503 asks for a slower rate."""
    delay = backoff(attempt)
    log(f"{label}: {problem}; trying the whole upload again in {delay:g}s")
    deadline.sleep(delay)


def _storage_message(body: str) -> str:
    """`Code: Message` of an S3-style XML error, else the start of the body."""
    match = re.search(r"<Code>([^<]*)</Code>.*?<Message>([^<]*)</Message>", body, re.S)
    return f"{match.group(1)}: {match.group(2)}" if match else one_line(body, limit=200)
