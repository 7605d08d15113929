"""Presigned upload URLs, served by the sandbox itself under /_storage/, refusing what real object storage refuses.

Autosana's start-upload hands out such a URL (its signature in the query). Like S3, storage here answers a PUT that
carries other credentials (an API key, an Authorization header) with 400, a PUT without a Content-Length (chunked)
with 411, and a wrong signature with 403. It streams the body to a hash and forgets the bytes, so a large build
costs it no memory. Faults of the key that asked for the URL: `put503` answers the first PUT with 503, `put403`
every PUT with 403.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

PREFIX = "/_storage/"


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


BLOCK = 64 * 1024


def s3_error(code: str, message: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'


@dataclass
class Slot:
    """One presigned upload: where it goes, its signature, and what arrived."""

    file_path: str
    signature: str
    faults: frozenset[str]
    puts: int = 0
    size: int | None = None  # bytes received by the last accepted PUT
    sha256: str = ""


@dataclass
class Storage:
    slots: dict[str, Slot] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def presign(self, base_url: str, file_path: str, faults: frozenset[str]) -> str:
        token, signature = secrets.token_hex(8), secrets.token_hex(16)
        with self.lock:
            self.slots[token] = Slot(file_path, signature, faults)
        return f"{base_url}{PREFIX}{token}?X-Amz-Expires=3600&X-Amz-Signature={signature}"

    def uploaded(self, file_path: str) -> Slot | None:
        with self.lock:
            return next((slot for slot in self.slots.values() if slot.file_path == file_path and slot.size is not None), None)

    def receive(self, raw_path: str, headers: dict[str, str], body: Readable) -> tuple[int, str]:
        """Answer one PUT (status, XML body), reading its body in blocks."""
        parts = urlsplit(raw_path)
        with self.lock:
            slot = self.slots.get(parts.path.removeprefix(PREFIX))
        if "x-api-key" in headers or "authorization" in headers:
            return 400, s3_error("InvalidArgument", "Only one auth mechanism allowed; a presigned URL carries its own")
        if "chunked" in headers.get("transfer-encoding", "").lower() or "content-length" not in headers:
            return 411, s3_error("MissingContentLength", "You must provide the Content-Length HTTP header.")
        length = int(headers["content-length"])
        digest, received = hashlib.sha256(), 0
        while received < length:
            block = body.read(min(BLOCK, length - received))
            if not block:
                break
            digest.update(block)
            received += len(block)
        if slot is None or parse_qs(parts.query).get("X-Amz-Signature") != [slot.signature]:
            return 403, s3_error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
        slot.puts += 1
        if "put403" in slot.faults:
            return 403, s3_error("AccessDenied", "Request has expired")
        if "put503" in slot.faults and slot.puts == 1:
            return 503, s3_error("SlowDown", "Please reduce your request rate.")
        if received != length:
            return 400, s3_error("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
        slot.size, slot.sha256 = received, digest.hexdigest()
        return 200, ""
