"""Streaming a build file to a presigned storage URL: no credentials, bounded by the deadline, progress, whole-PUT retries.

A presigned URL carries its own signature (in the query), so the request carries no API key and no Authorization header,
follows no redirect, and the query is never printed. Storage wants a Content-Length (it refuses chunked transfer), so the
body is the open file with its size: it streams from disk in blocks, and memory stays flat whatever the build's size.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit, urlunsplit

import requests

from suiterun.clock import Clock, Deadline
from suiterun.concurrency import Overdue, call_within
from suiterun.errors import TimeoutReached, VendorError
from suiterun.http import backoff
from suiterun.secrets import Secrets
from suiterun.text import format_size, one_line

PROGRESS_EVERY = 10.0  # seconds between progress lines while uploading
MIB = 1024 * 1024


class UploadError(VendorError):
    """Storage refused the file, or could not be reached after the retries."""


def without_query(url: str) -> str:
    """The URL as it may be printed: without the query, where a presigned URL keeps its signature."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class _NoCredentials(requests.auth.AuthBase):
    """An explicit 'no authentication', so requests never takes a password from ~/.netrc for the storage host."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


class _ProgressReader:
    """The file as a request body: read in blocks by http.client, with a progress line at most every PROGRESS_EVERY."""

    def __init__(self, file: BinaryIO, size: int, clock: Clock, log: Callable[[str], None], label: str) -> None:
        self.file, self.size, self.clock, self.log, self.label = file, size, clock, log, label
        self.sent = 0
        self.started = self.last = clock.monotonic()

    def __len__(self) -> int:  # requests sends Content-Length from it, and streams the body with read()
        return self.size

    def read(self, amount: int = -1) -> bytes:
        block = self.file.read(amount)
        self.sent += len(block)
        now = self.clock.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            rate = self.sent / MIB / max(now - self.started, 1e-9)
            self.log(f"{self.label}: {self.sent / MIB:.1f} of {self.size / MIB:.1f} MiB ({self.sent * 100 // max(self.size, 1)}%), {rate:.1f} MiB/s")
        return block


def put_file(
    path: Path,
    url: str,
    *,
    deadline: Deadline,
    log: Callable[[str], None],
    label: str,
    secrets: Secrets,
    attempts: int = 3,
    connect_timeout: float = 10.0,
    read_timeout: float = 60.0,
) -> None:
    """PUT the file's bytes to `url`. A connection error or a 5xx is retried as a whole PUT (at most `attempts`, after a
    short backoff), a 4xx is not; the whole upload, waits and retries included, ends by the deadline (then
    TimeoutReached). What storage says is redacted with `secrets` before it is cut."""
    size = path.stat().st_size
    where = without_query(url)
    with requests.Session() as storage:  # a session of its own: nothing of the vendor's (headers, cookies) reaches storage
        for attempt in range(1, attempts + 1):
            remaining = deadline.remaining()
            if remaining <= 0:
                raise TimeoutReached(f"{label}: no time left to upload {path.name} to {where} before the timeout.")
            log(f"{label}: uploading {path.name} ({format_size(size)}) to {where}" + (f", attempt {attempt} of {attempts}" if attempt > 1 else ""))
            with path.open("rb") as file:
                body = _ProgressReader(file, size, deadline.clock, log, label)
                send = functools.partial(
                    storage.put,
                    url,
                    data=body,
                    headers={"Content-Type": "application/octet-stream"},
                    auth=_NoCredentials(),
                    timeout=(min(connect_timeout, remaining), min(read_timeout, remaining)),
                    allow_redirects=False,
                )
                try:
                    response = call_within(remaining, send)
                except Overdue:
                    raise TimeoutReached(f"{label}: the upload of {path.name} to {where} had not finished when the timeout passed.") from None
                except requests.RequestException as exc:
                    problem = f"could not reach storage at {urlsplit(url).netloc} ({type(exc).__name__})"
                    if attempt == attempts:
                        raise UploadError(f"{label}: {problem}; gave up after {attempts} attempts.") from None
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
