"""Debug output: one line per HTTP request with the runner's debug logging (RUNNER_DEBUG=1) or the command's --verbose,
never otherwise, and never a key, token, password or signature in it."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import requests

from sandbox.server import SandboxServer
from suiterun import cli
from suiterun.clock import Deadline
from suiterun.context import CIContext
from suiterun.http import Retry, VendorClient
from suiterun.http_debug import BODY_CHARS, HttpDebug, scrub
from suiterun.secrets import Secrets
from suiterun.workflow import Console, GitHubActions, Workflow
from tests.hostile import SERVER, Answer, autosana, hostile_server
from tests.support import ActionRun, FakeClock, run_in_process, sandbox_url
from tests.test_http import ScriptedAdapter, refused, response

KEY = "k_autosana_debug_5c4b3a"
DEBUG = {"RUNNER_DEBUG": "1"}


# --- What a line may show ---


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ('{"token": "eyJhbGciOiJIUzI1NiJ9.e30.sig", "state": "ok"}', "eyJhbGciOiJIUzI1NiJ9", '"state": "ok"'),
        ('{"refresh_token":"rt-0123456789","expires":3600}', "rt-0123456789", '"expires":3600'),
        ('{"client_secret": 123456789}', "123456789", '"client_secret": "***"'),
        ('{"password": "hunter2-hunter2"', "hunter2", '"password": "***"'),  # cut off before the string ends
        ('{"X-Api-Key": "xk_live_abcdef"}', "xk_live_abcdef", '"X-Api-Key"'),
        ('"{\\"access_token\\": \\"at-98765432\\"}"', "at-98765432", "access_token"),  # JSON inside a JSON string
        ("https://bucket.s3.example/b/app.apk?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=5f5f5f5f5f", "5f5f5f5f5f", "bucket.s3.example/b/app.apk"),
        ('{"upload_url": "https:\\/\\/s.example\\/x?sig=c2lnbmF0dXJl"}', "c2lnbmF0dXJl", "s.example"),
        ("<Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>abc123def456</SignatureProvided>", "abc123def456", "SignatureDoesNotMatch"),
        ("<AWSAccessKeyId>AKIAIOSFODNN7EXAMPLE</AWSAccessKeyId>", "AKIAIOSFODNN7EXAMPLE", "<AWSAccessKeyId>"),
        ("grant_type=refresh&api_key=k-112233445566&user=ann", "k-112233445566", "user=ann"),
        ("Authorization: Bearer ghs_tokenvalue123 was rejected", "ghs_tokenvalue123", "was rejected"),
        ("Set-Cookie: session=s3ss10nvalue; Path=/", "s3ss10nvalue", "Path=/"),
    ],
    ids=[
        "json-token",
        "json-compact",
        "json-number",
        "json-cut-off",
        "json-api-key",
        "json-escaped",
        "presigned-url",
        "json-escaped-url",
        "xml-signature",
        "xml-access-key",
        "form",
        "bearer",
        "cookie",
    ],
)
def test_scrub_takes_out_what_looks_like_a_credential(text: str, secret: str, kept: str) -> None:
    cleaned = scrub(text)
    assert secret not in cleaned, cleaned
    assert kept in cleaned, cleaned
    assert "***" in cleaned


def test_a_line_names_method_host_path_status_time_and_size_but_never_the_query_or_a_user() -> None:
    lines: list[str] = []
    answer = requests.Response()
    answer.status_code, answer._content, answer.encoding = 200, b'{"status": "running", "id": "r-1"}', "utf-8"
    HttpDebug(lines.append, Secrets()).answered("GET", "https://u:pw@api.acme.test/v1/runs?page=2#top", answer, 0.0425)
    assert lines == ['GET api.acme.test/v1/runs -> HTTP 200 in 42 ms, 34 bytes received: {"status": "running", "id": "r-1"}']


def test_the_answer_is_redacted_before_it_is_cut() -> None:
    """A secret that straddles the cut is gone whole, never shown in part."""
    secrets = Secrets()
    secrets.add(KEY)
    body = ("x" * (BODY_CHARS - 5) + KEY + "y" * 50).encode()
    shown = HttpDebug(print, secrets).start_of(body, "utf-8")
    assert KEY[:5] not in shown and shown.startswith("x" * (BODY_CHARS - 5) + "***")
    assert len(shown) == BODY_CHARS


def test_every_attempt_gets_a_line_answered_or_not(clock: FakeClock) -> None:
    lines: list[str] = []
    adapter = ScriptedAdapter([refused(), response(503, {"error": "busy"}), response(200, {"ok": 1})])
    session = requests.Session()
    session.mount("https://", adapter)
    client = VendorClient("Acme", "https://api.acme.test/v1/", session, Deadline.after(clock, 600), debug=HttpDebug(lines.append, Secrets()))
    assert client.request("GET", "runs/7", what="the status", retry=Retry.READ, params={"token": "t-secret-1"}) == {"ok": 1}
    assert lines == [
        "GET api.acme.test/v1/runs/7 -> no answer after 0 ms (ConnectionError)",
        'GET api.acme.test/v1/runs/7 -> HTTP 503 in 0 ms, 17 bytes received: {"error": "busy"}',
        'GET api.acme.test/v1/runs/7 -> HTTP 200 in 0 ms, 9 bytes received: {"ok": 1}',
    ]


# --- Where the lines go: ::debug:: in GitHub Actions, plain in the command, nowhere otherwise ---


def written(workflow_type: type[Workflow], *, runner_debug: bool, verbose: bool) -> tuple[str, bool]:
    out = io.StringIO()
    workflow = workflow_type(CIContext(Path("."), in_actions=True, runner_debug=runner_debug), out=out, verbose=verbose)
    workflow.mask(KEY)
    workflow.debug(f"GET api.acme.test/x -> HTTP 200: key {KEY}\nsecond line ::error::x")
    return out.getvalue().replace(f"::add-mask::{KEY}\n", ""), workflow.http_debug is not None


def test_the_runners_debug_logging_writes_debug_commands() -> None:
    assert written(GitHubActions, runner_debug=True, verbose=False) == (
        "::debug::GET api.acme.test/x -> HTTP 200: key *** second line :\u200b:error:\u200b:x\n",
        True,
    )


def test_verbose_writes_plain_lines_in_actions_and_in_the_command() -> None:
    plain = "debug: GET api.acme.test/x -> HTTP 200: key *** second line :\u200b:error:\u200b:x\n"
    assert written(GitHubActions, runner_debug=False, verbose=True) == (plain, True)
    assert written(Console, runner_debug=False, verbose=True) == (plain, True)


def test_without_either_there_is_no_debug_line_and_nothing_prepares_one() -> None:
    assert written(GitHubActions, runner_debug=False, verbose=False) == ("", False)
    assert written(Console, runner_debug=False, verbose=False) == ("", False)
    no_git = {"GITHUB_SHA": "0" * 40}  # the commit from the environment: git is not asked
    assert CIContext.from_environ({**no_git, "RUNNER_DEBUG": "1"}).runner_debug
    assert not CIContext.from_environ({**no_git, "RUNNER_DEBUG": "0"}).runner_debug


# --- Whole runs ---


def debug_lines(run: ActionRun) -> list[str]:
    return [line for line in run.log.splitlines() if line.startswith(("::debug::", "debug: "))]


@pytest.mark.io
def test_debug_logging_shows_every_request_of_an_upload_run_without_its_signature(tmp_path: Path, sandbox: SandboxServer) -> None:
    (tmp_path / "app.apk").write_bytes(b"an apk")
    inputs = {"vendor": "autosana", "api-key": "sandbox-pass", "api-url": sandbox_url(sandbox, "autosana"), "suites": "s-1"}
    inputs |= {"bundle-id": "com.acme.shop", "platform": "android", "build-path": "app.apk", "poll-interval": "5s"}
    run = run_in_process(tmp_path, inputs, server=sandbox, extra_env=DEBUG)
    assert run.exit_code == 0, run.log
    lines = debug_lines(run)
    assert len(lines) == len(run.requests) and all(line.startswith("::debug::") and " -> HTTP 2" in line for line in lines), lines
    (stored,) = [request for request in run.requests if request["vendor"] == "_storage"]
    signature = stored["query"]["X-Amz-Signature"][0]
    host = sandbox.url.removeprefix("http://")
    assert f"::debug::PUT {host}{stored['path']} -> HTTP 200" in "\n".join(lines)
    assert f"{host}/_storage/" in next(line for line in lines if "/api/ci/start-upload" in line)  # the answer, its URL's query taken out
    assert not any(signature in line or "sandbox-pass" in line for line in lines)


@pytest.mark.io
def test_a_secret_the_vendor_echoes_never_reaches_a_debug_line(tmp_path: Path) -> None:
    echoed = Answer(
        body={
            "status": "success",
            "batch_id": "batch-1",
            "note": f"accepted key {KEY}",
            "session_token": "st_live_0a1b2c3d4e",
            "report": f"{SERVER}/r/1?X-Amz-Signature=feedface0123",
        }
    )
    with hostile_server(autosana(trigger=echoed)) as vendor:
        inputs = {"vendor": "autosana", "api-key": KEY, "api-url": vendor.url, "suites": "s-1", "app-id": "web", "poll-interval": "5s"}
        run = run_in_process(tmp_path, inputs, extra_env=DEBUG)
    assert run.exit_code == 0, run.log
    trigger = next(line for line in debug_lines(run) if "/api/v1/flows/run" in line)
    assert "accepted key ***" in trigger and '"session_token": "***"' in trigger and "/r/1?***" in trigger, trigger
    assert not any(secret in run.log.replace(f"::add-mask::{KEY}", "") for secret in (KEY, "st_live_0a1b2c3d4e", "feedface0123"))


@pytest.mark.io
def test_no_debug_line_without_debug_logging(tmp_path: Path, sandbox: SandboxServer) -> None:
    inputs = {"vendor": "autosana", "api-key": "sandbox-pass", "api-url": sandbox_url(sandbox, "autosana"), "suites": "s-1", "app-id": "web"}
    run = run_in_process(tmp_path, inputs, server=sandbox, extra_env={"RUNNER_DEBUG": "0"})
    assert run.exit_code == 0 and run.requests
    assert debug_lines(run) == [] and " -> HTTP " not in run.log


@pytest.mark.io
@pytest.mark.parametrize("verbose", [True, False])
def test_the_commands_verbose_prints_plain_debug_lines(
    verbose: bool, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["run", "--vendor", "autosana", "--api-url", sandbox_url(sandbox, "autosana"), "--suites", "s-1", "--app-id", "web"]
    environ = {"PATH": os.environ.get("PATH", ""), "SUITERUN_API_KEY": "sandbox-pass"}
    sandbox.reset()
    code = cli.main([*args, "--outputs-file", "o.json", *(["--verbose"] if verbose else [])], environ, clock=FakeClock())
    printed = capsys.readouterr().out
    assert code == 0 and json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))["status"] == "passed"
    lines = [line for line in printed.splitlines() if line.startswith("debug: ")]
    assert len(lines) == (len(sandbox.requests) if verbose else 0), printed
    assert "::debug::" not in printed and "sandbox-pass" not in printed
    if verbose:
        assert lines[0].startswith(f"debug: POST {sandbox.url.removeprefix('http://')}/autosana/api/v1/flows/run -> HTTP 200 in 0 ms")
