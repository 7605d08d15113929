"""Self-hosted and enterprise runners: a proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) for vendor, storage and GitHub
requests, certificate authorities of one's own (REQUESTS_CA_BUNDLE, SSL_CERT_FILE), and GitHub Enterprise Server
(GITHUB_SERVER_URL, GITHUB_API_URL). Runs go through suiterun.main.main as the action's door does, so every session
is the one the action itself opens."""

from __future__ import annotations

import http.client
import json
import random
import select
import socket
import ssl
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from sandbox import make_server
from sandbox.server import SandboxServer
from suiterun.http import CA_VARIABLES, CertificatesNotFound, http_session
from suiterun.main import main
from tests.fake_github import TOKEN, FakeGitHub, running_fake_github
from tests.support import ActionRun, FakeClock, action_environ, collect_run, sandbox_url, serving

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
WEB_RUN = {"vendor": "autosana", "api-key": "sandbox-pass", "suites": "s-1", "app-id": "web", "poll-interval": "5s"}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The process environment without any proxy or certificate variable (requests reads them from there)."""
    for name in (*PROXY_VARIABLES, *CA_VARIABLES):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def run_action(tmp_path: Path, inputs: Mapping[str, str], extra_env: Mapping[str, str] | None = None) -> ActionRun:
    """The action's door, opening its own sessions (tests.support.run_in_process hands it one)."""
    stdout = StringIO()
    with redirect_stdout(stdout):
        exit_code = main(action_environ(tmp_path, inputs, extra_env), clock=FakeClock(), rng=random.Random(7))
    return collect_run(tmp_path, exit_code, stdout.getvalue(), None)


# --- The session every request goes through ---


def test_ssl_cert_file_counts_only_when_requests_own_variables_are_unset(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle, other = tmp_path / "corporate.pem", tmp_path / "other.pem"
    bundle.write_text("a PEM bundle", encoding="utf-8")
    other.write_text("another", encoding="utf-8")
    environment.setenv("SSL_CERT_FILE", str(bundle))
    session = http_session()
    assert session.verify == str(bundle) and session.trust_env
    environment.setenv("REQUESTS_CA_BUNDLE", str(other))
    session = http_session()
    assert session.verify is True  # requests applies REQUESTS_CA_BUNDLE to each request itself:
    assert session.merge_environment_settings("https://api.vendor.example/", {}, None, None, None)["verify"] == str(other)


def test_proxy_variables_apply_to_the_session(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    environment.setenv("NO_PROXY", "internal.example")
    settings = http_session().merge_environment_settings
    assert settings("https://api.vendor.example/v1", {}, None, None, None)["proxies"]["https"] == "http://proxy.corp.example:3128"
    assert "https" not in settings("https://ci.internal.example/v1", {}, None, None, None)["proxies"]


@pytest.mark.parametrize("variable", CA_VARIABLES)
def test_a_certificate_variable_naming_nothing_is_one_line_before_any_request(variable: str, environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    environment.setenv(variable, str(tmp_path / "missing.pem"))
    with pytest.raises(CertificatesNotFound):
        http_session()
    run = run_action(tmp_path, {**WEB_RUN, "api-url": "https://api.vendor.example/autosana"})
    assert run.exit_code == 2 and run.outputs["status"] == "error"
    (error,) = [line for line in run.log.splitlines() if line.startswith("::error")]
    assert f"The environment variable {variable} names '{tmp_path / 'missing.pem'}', which does not exist" in error, error
    assert "Internal error" not in run.log and "Traceback" not in run.log


# --- Through a proxy ---


@dataclass
class Proxy:
    url: str
    seen: list[str] = field(default_factory=list)  # each request line: `METHOD absolute-URL`, or `CONNECT host:port`


class _ProxyHandler(BaseHTTPRequestHandler):
    """A forwarding proxy for http:// targets and a CONNECT tunnel for https:// ones."""

    protocol_version = "HTTP/1.1"
    proxy: Proxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        self.proxy.seen.append(f"{self.command} {self.path}")
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {name: value for name, value in self.headers.items() if not name.lower().startswith("proxy-") and name.lower() != "connection"}
        upstream = http.client.HTTPConnection(target.hostname or "", target.port, timeout=10)
        try:
            upstream.request(self.command, target.path + (f"?{target.query}" if target.query else ""), body=body, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("connection", "content-length", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = _forward

    def do_CONNECT(self) -> None:
        self.proxy.seen.append(f"CONNECT {self.path}")
        host, _, port = self.path.rpartition(":")
        self.close_connection = True
        with socket.create_connection((host, int(port)), timeout=10) as upstream:
            self.send_response(200, "Connection established")
            self.end_headers()
            ends = {self.connection: upstream, upstream: self.connection}
            while True:
                readable, _, _ = select.select(list(ends), [], [], 10)
                chunks = [(source, source.recv(65536)) for source in readable]
                if not readable or any(not data for _, data in chunks):
                    return
                for source, data in chunks:
                    ends[source].sendall(data)


@contextmanager
def running_proxy() -> Iterator[Proxy]:
    proxy = Proxy("")
    handler = type("Handler", (_ProxyHandler,), {"proxy": proxy})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield proxy


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with running_fake_github() as fake:
        yield fake


def upload_with_comment(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> ActionRun:
    """An Autosana upload (vendor and storage requests) on a pull request, with its comment (GitHub requests)."""
    sandbox.reset()
    (tmp_path / "app.apk").write_bytes(b"an apk")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 17, "pull_request": {"number": 17}}), encoding="utf-8")
    inputs = {**WEB_RUN, "api-url": sandbox_url(sandbox, "autosana"), "comment": "always", "github-token": TOKEN, "matrix": "null"}
    inputs |= {"app-id": "", "bundle-id": "com.acme.shop", "platform": "android", "build-path": "app.apk"}
    environ = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_API_URL": github.url, "GITHUB_ACTION": "e2e"}
    run = run_action(tmp_path, inputs, environ)
    assert run.exit_code == 0 and github.bodies("acme/shop", 17), run.log
    return run


@pytest.mark.io
def test_vendor_storage_and_github_requests_all_go_through_the_proxy_with_the_ca_file(
    environment: pytest.MonkeyPatch, tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub
) -> None:
    bundle = tmp_path / "corporate.pem"
    bundle.write_text("the CAs https:// would be checked against", encoding="utf-8")
    verified_with: list[Any] = []
    send = requests.Session.request

    def request(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
        verified_with.append(session.verify)
        return send(session, method, url, **kwargs)

    environment.setattr(requests.Session, "request", request)
    environment.setenv("SSL_CERT_FILE", str(bundle))
    with running_proxy() as proxy:
        environment.setenv("HTTP_PROXY", proxy.url)
        upload_with_comment(tmp_path, sandbox, github)
    host = sandbox.url
    assert f"POST {host}/autosana/api/ci/start-upload" in proxy.seen
    assert any(line.startswith(f"PUT {host}/_storage/") and "X-Amz-Signature=" in line for line in proxy.seen), proxy.seen
    assert f"POST {host}/autosana/api/v1/flows/run" in proxy.seen
    assert f"POST {github.url}/repos/acme/shop/issues/17/comments" in proxy.seen
    assert len(proxy.seen) == len(sandbox.requests) + len(github.requests)  # every request, and only through the proxy
    assert verified_with == [str(bundle)] * len(proxy.seen)  # every session the action opened came from http_session


@pytest.mark.io
def test_no_proxy_sends_the_hosts_it_names_directly(
    environment: pytest.MonkeyPatch, tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub
) -> None:
    with running_proxy() as proxy:
        environment.setenv("HTTP_PROXY", proxy.url)
        environment.setenv("NO_PROXY", "127.0.0.1")
        upload_with_comment(tmp_path, sandbox, github)
    assert proxy.seen == [] and sandbox.requests and github.requests


# --- Certificate authorities of one's own ---


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA of this test's own and a certificate it signed for 127.0.0.1 (ca.pem, server.pem, server.key)."""
    folder = tmp_path_factory.mktemp("tls")
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        encoding="utf-8",
    )
    key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    for command in (
        f"req -x509 {key} -keyout ca.key -out ca.pem -days 2 -subj /CN=suiterun-test-CA",
        f"req {key} -keyout server.key -out server.csr -subj /CN=127.0.0.1",
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 -extfile server.ext -out server.pem",
    ):
        subprocess.run(["openssl", *command.split()], cwd=folder, check=True, capture_output=True)
    return folder


@pytest.fixture(scope="module")
def tls_sandbox(certificates: Path) -> Iterator[str]:
    """The sandbox behind TLS with the test CA's certificate; its https:// base URL."""
    server = make_server("127.0.0.1", 0)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server):
        yield f"https://127.0.0.1:{server.server_address[1]}"


@pytest.mark.io
@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_a_server_signed_by_ones_own_ca_is_trusted_through_either_variable(
    variable: str, certificates: Path, tls_sandbox: str, environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment.setenv(variable, str(certificates / "ca.pem"))
    run = run_action(tmp_path, {**WEB_RUN, "api-url": f"{tls_sandbox}/autosana"})
    assert run.exit_code == 0 and run.outputs["status"] == "passed", run.log


@pytest.mark.io
def test_without_the_ca_the_server_is_not_trusted(tls_sandbox: str, environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run = run_action(tmp_path, {**WEB_RUN, "api-url": f"{tls_sandbox}/autosana"})
    assert run.exit_code == 3 and run.outputs["status"] == "error"
    assert "(its certificate is not trusted: see REQUESTS_CA_BUNDLE or SSL_CERT_FILE); nothing was sent." in run.log
    assert "a run may have been created" not in run.log and "retrying" not in run.log


@pytest.mark.io
def test_https_goes_through_the_proxys_tunnel_and_is_still_verified(
    certificates: Path, tls_sandbox: str, environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with running_proxy() as proxy:
        environment.setenv("HTTPS_PROXY", proxy.url)
        environment.setenv("SSL_CERT_FILE", str(certificates / "ca.pem"))
        run = run_action(tmp_path, {**WEB_RUN, "api-url": f"{tls_sandbox}/autosana"})
    assert run.exit_code == 0 and run.outputs["status"] == "passed", run.log
    assert proxy.seen and set(proxy.seen) == {f"CONNECT {tls_sandbox.removeprefix('https://')}"}


# --- GitHub Enterprise Server ---


@pytest.mark.io
def test_enterprise_server_api_calls_and_links_come_from_its_variables(
    environment: pytest.MonkeyPatch, tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub
) -> None:
    server = "https://github.acme-corp.example"
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 17, "pull_request": {"number": 17}}), encoding="utf-8")
    inputs = {**WEB_RUN, "api-url": sandbox_url(sandbox, "autosana"), "comment": "always", "github-token": TOKEN, "matrix": "null"}
    environ = {"GITHUB_SERVER_URL": server, "GITHUB_API_URL": github.url, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event)}
    run = run_action(tmp_path, inputs, environ)
    assert run.exit_code == 0 and "::warning" not in run.log, run.log
    assert [(request.method, request.path) for request in github.requests] == [
        ("GET", "/user"),
        ("GET", "/repos/acme/shop/issues/17/comments"),
        ("POST", "/repos/acme/shop/issues/17/comments"),
    ]
    (comment,) = github.bodies("acme/shop", 17)
    link = f"[workflow run]({server}/acme/shop/actions/runs/4242)"
    assert link in comment and link in run.summary
    assert "github.com" not in comment + run.summary
