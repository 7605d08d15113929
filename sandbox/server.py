"""The sandbox HTTP server: routes `/<vendor>/...` to emulators, injects faults, records requests."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.scenarios import Executions, KeyChoice, choose
from sandbox.storage import PREFIX as STORAGE_PREFIX
from sandbox.storage import Storage

HTML_PAGE = "<!doctype html><html><head><title>App</title></head><body>Sign in</body></html>"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # after the /<vendor> prefix
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow vendor), outside the server's lock

    @classmethod
    def error(cls, status: int, message: str, key: str = "message") -> Reply:
        return cls(status, {key: message})


class Emulator(ABC):
    """One vendor's API. Subclasses keep their runs in memory; the server serialises calls."""

    prefix: str  # the vendor name, first path segment
    runs_created = 0  # runs (batches, jobs) this emulator started: tests check nothing starts twice

    def __init__(self) -> None:
        self.executions = Executions()  # how often each test ran, per key (the flaky-tests scenario)

    def forget(self) -> None:
        """Forget what /_sandbox/reset forgets besides the request log and the faults: how often each test ran."""
        self.executions = Executions()

    @abstractmethod
    def api_key(self, request: Request) -> str | None:
        """The sandbox key a request carries (directly, or behind a token the emulator issued)."""

    @abstractmethod
    def handle(self, request: Request, choice: KeyChoice) -> Reply:
        """Answer a request whose key chose a valid scenario."""

    def unauthorized(self, request: Request) -> Reply:
        return Reply.error(401, "Invalid API key")


class Faults:
    """Scripted faults per key: `flaky` answers the first three reads with 503, a 429
    with Retry-After: 1 and an HTML page; `trigger503` answers the first write with 503
    (creating nothing); `html` answers everything with the web app's HTML; `down` with 503."""

    def __init__(self) -> None:
        self.seen: Counter[tuple[str, str, str]] = Counter()

    def apply(self, vendor: str, method: str, choice: KeyChoice, key: str) -> Reply | None:
        kind = "read" if method == "GET" else "write"
        self.seen[(vendor, key, kind)] += 1
        count = self.seen[(vendor, key, kind)]
        if "down" in choice.faults:
            return Reply.error(503, "Service Unavailable")
        if "html" in choice.faults:
            return Reply(200, HTML_PAGE, {"Content-Type": "text/html"})
        if "trigger503" in choice.faults and kind == "write" and count == 1:
            return Reply.error(503, "Service Unavailable")
        if "flaky" in choice.faults and kind == "read" and count <= 3:
            return [
                Reply.error(503, "Service Unavailable"),
                Reply(429, {"message": "Too Many Requests"}, {"Retry-After": "1"}),
                Reply(200, HTML_PAGE, {"Content-Type": "text/html"}),
            ][count - 1]
        return None


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulators: list[Emulator], storage: Storage | None = None) -> None:
        super().__init__(address, _Handler)
        self.emulators = {emulator.prefix: emulator for emulator in emulators}
        self.storage = storage or Storage()
        self.faults = Faults()
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []

    def reset(self) -> None:
        """Forget recorded requests, fault counters and how often each test ran, so the next run sees every scripted
        fault and every flaky test's first failure."""
        self.requests.clear()
        self.faults = Faults()
        for emulator in self.emulators.values():
            emulator.forget()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def record(self, vendor: str, request: Request) -> None:
        # `received` (epoch seconds) lets scripts/benchmark.py time the action from outside.
        entry = {
            "vendor": vendor,
            **{name: getattr(request, name) for name in ("method", "path", "query", "headers", "body")},
            "received": time.time(),
        }
        with self.lock:
            self.requests.append(entry)

    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes) -> Reply:
        parts = urlsplit(raw_path)
        segments = parts.path.split("/", 2)
        vendor = segments[1] if len(segments) > 1 else ""
        path = "/" + (segments[2] if len(segments) > 2 else "")
        if vendor == "_sandbox":
            with self.lock:
                return self._control(method, path)
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = raw_body.decode("utf-8", "replace")
        request = Request(method, path, parse_qs(parts.query), headers, body)
        self.record(vendor, request)
        with self.lock:
            emulator = self.emulators.get(vendor)
            if emulator is None:
                return Reply.error(404, f"No sandbox vendor '{vendor}'; use one of: {', '.join(self.emulators)}")
            key = emulator.api_key(request)
            choice = choose(key)
            if choice is None or key is None:
                return emulator.unauthorized(request)
            return self.faults.apply(vendor, method, choice, key) or emulator.handle(request, choice)

    def _control(self, method: str, path: str) -> Reply:
        if path == "/requests":
            return Reply(200, self.requests)
        if path == "/reset" and method == "POST":
            self.reset()
            return Reply(200, {"reset": True})
        return Reply.error(404, "unknown sandbox control path")


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        if self.command == "PUT" and self.path.startswith(STORAGE_PREFIX):
            self._store(headers)
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        reply = self.server.dispatch(self.command, self.path, headers, raw_body)
        time.sleep(reply.delay)
        if isinstance(reply.body, str):
            payload = reply.body.encode()
            content_type = "text/html; charset=utf-8"
        else:
            payload = json.dumps(reply.body).encode()
            content_type = "application/json"
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.headers.pop("Content-Type", content_type))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _store(self, headers: dict[str, str]) -> None:
        """A PUT to a presigned URL: streamed to sandbox.storage, recorded without its body."""
        parts = urlsplit(self.path)
        self.server.record("_storage", Request("PUT", parts.path, parse_qs(parts.query), headers, None))
        status, text = self.server.storage.receive(self.path, headers, self.rfile)
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(payload)))
        if status >= 400:
            self.send_header("Connection", "close")  # the body may not have been read
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def handle(self) -> None:
        # A client that goes away mid-request (a cancelled action) is not a server error.
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the request log
        pass
