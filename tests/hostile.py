"""A few-line vendor that misbehaves on purpose: echoes keys, drips bytes, hangs, sends what JSON allows."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SERVER = "{server}"  # in an answer's JSON: replaced by this server's own base URL


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes; SERVER in it becomes the server's URL
    headers: dict[str, str] = field(default_factory=dict)
    drip_seconds: float = 0.0  # send the body one byte at a time, this long apart
    hang: bool = False  # accept the request and never answer


# (method, path) -> an Answer
Behaviour = Callable[[str, str], Answer]


def autosana(trigger: Answer | None = None, status: Answer | None = None) -> Behaviour:
    """An Autosana-shaped API: the flow run request and the batch status, each replaceable."""
    started = Answer(body={"status": "success", "batch_id": "batch-1"})

    def behave(method: str, path: str) -> Answer:
        if method == "POST" and path.endswith("/api/v1/flows/run"):
            return trigger or started
        if path.split("?", maxsplit=1)[0].endswith("/api/v1/runs/status"):
            return status or Answer(body=batch([("Login", "passed", "")]))
        return Answer(404, {"detail": "Not Found"})

    return behave


def batch(runs: list[tuple[str, str, str]], *, complete: bool = True) -> dict[str, Any]:
    """A finished Autosana batch status with one group of (name, status, summary) runs."""
    flows = [{"id": f"run-{n}", "name": name, "status": status, "summary": summary} for n, (name, status, summary) in enumerate(runs)]
    return {"batch_id": "batch-1", "is_complete": complete, "run_groups": [{"name": "Smoke", "status": "passed", "runs": flows}]}


@dataclass
class HostileServer:
    url: str
    requests: list[tuple[str, str]]


@contextmanager
def hostile_server(behave: Behaviour) -> Iterator[HostileServer]:
    seen: list[tuple[str, str]] = []
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            seen.append((self.command, self.path))
            answer = behave(self.command, self.path)
            if answer.hang:
                stop.wait(30)
                return
            payload = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).replace(SERVER, base_url).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.headers.pop("Content-Type", "application/json"))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            try:
                if answer.drip_seconds:
                    for byte in payload:
                        if stop.wait(answer.drip_seconds):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                else:
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_PUT = do_PATCH = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield HostileServer(base_url, seen)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    """Real time: waiting for a real subprocess to reach a point."""
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        time.sleep(0.02)
