"""A fake GitHub REST API for pull request comments: list (paginated with Link headers), create, update; records requests.

`python3 -m tests.fake_github --port 0` serves it on its own (stdlib only, for the e2e workflows under act); GET /_fake/state
then answers what it recorded.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

PREFIX = "/api/v3"  # served under a GitHub Enterprise Server style prefix, so base_url must be honoured
TOKEN = "ghs_fakeInstallationToken0123456789"
FORBIDDEN = {
    "message": "Resource not accessible by integration",
    "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
}
_LIST_OR_CREATE = re.compile(r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/(?P<number>\d+)/comments")
_UPDATE = re.compile(r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues/comments/(?P<id>\d+)")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without PREFIX
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: Any


@dataclass
class FakeGitHub:
    """The comments of every pull request, and what the action asked for."""

    url: str = ""  # base URL including PREFIX, set once the server listens
    comments: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    writes_forbidden: bool = False  # a fork's read-only token: reads work, writes answer 403
    next_id: int = 1000

    def add_comment(self, repository: str, number: int, body: str, *, login: str = "github-actions[bot]") -> dict[str, Any]:
        owner, repo = repository.split("/")
        comment = {
            "id": self.next_id,
            "node_id": f"IC_{self.next_id}",
            "url": f"{self.url}/repos/{owner}/{repo}/issues/comments/{self.next_id}",
            "html_url": f"https://github.example/{owner}/{repo}/pull/{number}#issuecomment-{self.next_id}",
            "issue_url": f"{self.url}/repos/{owner}/{repo}/issues/{number}",
            "body": body,
            "user": {"login": login, "id": 41898282, "type": "Bot"},
            "created_at": "2026-11-22T07:00:00Z",
            "updated_at": "2026-11-22T07:00:00Z",
        }
        self.next_id += 1
        self.comments.setdefault((repository, number), []).append(comment)
        return comment

    def bodies(self, repository: str, number: int) -> list[str]:
        return [comment["body"] for comment in self.comments.get((repository, number), [])]

    def requests_of(self, method: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.method == method]

    def state(self) -> dict[str, Any]:
        """The comments and the requests (without headers: they hold the token), for a check outside this process."""
        return {
            "comments": {f"{repository}#{number}": thread for (repository, number), thread in self.comments.items()},
            "requests": [{**asdict(request), "headers": {}} for request in self.requests],
        }

    def answer(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        if request.headers.get("authorization", "") not in (f"token {TOKEN}", f"Bearer {TOKEN}"):
            return 401, {"message": "Bad credentials"}, {}
        if request.path == "/user":
            # An installation token (what GITHUB_TOKEN is) may not read the authenticated user.
            return 403, {**FORBIDDEN, "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"}, {}
        if request.method in ("POST", "PATCH") and self.writes_forbidden:
            return 403, FORBIDDEN, {}
        if match := _LIST_OR_CREATE.fullmatch(request.path):
            key = (f"{match['owner']}/{match['repo']}", int(match["number"]))
            if request.method == "GET":
                return self.list_page(request, key)
            if request.method == "POST":
                return 201, self.add_comment(key[0], key[1], request.body["body"]), {}
        if (match := _UPDATE.fullmatch(request.path)) and request.method == "PATCH":
            for comment in (c for thread in self.comments.values() for c in thread):
                if comment["id"] == int(match["id"]):
                    comment["body"] = request.body["body"]
                    return 200, comment, {}
        return 404, {"message": "Not Found"}, {}

    def list_page(self, request: RecordedRequest, key: tuple[str, int]) -> tuple[int, Any, dict[str, str]]:
        per_page = int(request.query.get("per_page", ["30"])[0])
        page = int(request.query.get("page", ["1"])[0])
        thread = self.comments.get(key, [])
        last = max(1, -(-len(thread) // per_page))
        links = []
        for rel, target in (("next", page + 1), ("last", last)):
            if target <= last and page < last:
                links.append(f'<{self.url}{request.path}?{urlencode({"per_page": per_page, "page": target})}>; rel="{rel}"')
        return 200, thread[(page - 1) * per_page : page * per_page], {"Link": ", ".join(links)} if links else {}


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/_fake/state":
                return self._send(200, fake.state(), {})
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = RecordedRequest(
                method=self.command,
                path=parts.path.removeprefix(PREFIX),
                query=parse_qs(parts.query),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=json.loads(raw) if raw else None,
            )
            fake.requests.append(request)
            self._send(*(fake.answer(request) if parts.path.startswith(PREFIX) else (404, {"message": "Not Found"}, {})))

        def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = _serve

    return Handler


def listening(fake: FakeGitHub, port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    return server


@contextmanager
def running_fake_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    server = listening(fake)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python3 -m tests.fake_github", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--comment", nargs=3, action="append", default=[], metavar=("REPOSITORY", "NUMBER", "BODY"), help="a comment that exists already"
    )
    options = parser.parse_args()
    fake = FakeGitHub()
    server = listening(fake, options.port)
    for repository, number, body in options.comment:
        fake.add_comment(repository, int(number), body)
    print(f"fake github serving {fake.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
