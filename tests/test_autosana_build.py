"""Autosana: uploading the build under test (or registering a preview URL), then running the flows, against the sandbox
and its storage, as a workflow runs it."""

from __future__ import annotations

import itertools
import json
import random
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.server import SandboxServer
from suiterun.clock import Deadline, SystemClock
from suiterun.secrets import Secrets
from suiterun.upload import put_file
from tests.hostile import SERVER, Answer, hostile_server
from tests.support import ActionRun, FakeClock, run_in_process, sandbox_url

MOBILE = {"bundle-id": "com.acme.shop", "platform": "android", "build-path": "build/app-release.apk"}
WEB = {"app-id": "shop-web", "app-url": "https://preview-17.shop.example"}
HEAD_SHA = "1111111111111111111111111111111111111117"


def run(tmp_path: Path, url: str, key: str, inputs: Mapping[str, str], *, build: bytes | None = b"an apk, say") -> ActionRun:
    """One run on a pull request's event, after a build step that wrote `build` to build-path (None: it wrote nothing)."""
    given = {"vendor": "autosana", "api-key": key, "api-url": url, "poll-interval": "5s", "timeout": "5m", **inputs}
    if given.get("build-path") and build is not None:
        (tmp_path / given["build-path"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / given["build-path"]).write_bytes(build)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 17, "pull_request": {"number": 17, "head": {"sha": HEAD_SHA}}}), encoding="utf-8")
    pull_request = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_HEAD_REF": "feature/cart"}
    return run_in_process(tmp_path, given, extra_env=pull_request)


def autosana(
    sandbox: SandboxServer, tmp_path: Path, inputs: Mapping[str, str], key: str = "sandbox-pass", *, build: bytes | None = b"an apk"
) -> ActionRun:
    sandbox.reset()
    result = run(tmp_path, sandbox_url(sandbox, "autosana"), key, inputs, build=build)
    return ActionRun(result.exit_code, result.outputs, result.summary, result.log, list(sandbox.requests))


def calls(result: ActionRun) -> list[str]:
    return [f"{r['method']} {r['path']}" if r["vendor"] != "_storage" else "PUT storage" for r in result.requests]


def sent(result: ActionRun, path: str) -> Any:
    return next(r["body"] for r in result.requests if r["path"] == path)


# --- Inputs: each checked before any request, one line naming the input ---

BAD = [
    ({**MOBILE, "build-path": "../app.apk", "suites": "s"}, "Input 'build-path' must name a file inside the workspace"),
    ({**MOBILE, "build-path": "build/app.ipa"}, "Input 'build-path': 'app.ipa' is not a build for platform android, which takes .apk or .aab"),
    ({**MOBILE, "platform": "chrome-extension", "build-path": "ext.zip", "suites": "s"}, "Platform chrome-extension only uploads an extension"),
    ({"bundle-id": "com.acme.ext", "platform": "chrome-extension", "suites": "s"}, "Platform chrome-extension only uploads an extension"),
    ({**MOBILE, "platform": "chrome-extension", "build-path": "ext.zip", "environment": "staging"}, "Input 'environment' does not apply"),
    ({**MOBILE, "app-url": "https://x.example"}, "Autosana takes input 'build-path' (a mobile build or Chrome extension) or 'app-url'"),
    (
        {"bundle-id": "com.acme", "platform": "ios", "app-url": "https://x.example"},
        "Input 'app-url' registers a web build: give the web app's 'app-id'",
    ),
    ({**WEB, "app-url": "ftp://x.example"}, "Input 'app-url' must be an http(s) URL"),
    ({"app-id": "web", "build-path": "build/app.apk"}, "Input 'build-path' uploads a mobile build or Chrome extension"),
    ({**WEB, "web-browser": "safari"}, "Input 'web-browser' has unsupported value 'safari', expected one of: chrome, chromium, firefox, edge"),
    ({**MOBILE, "web-browser": "chrome"}, "Input 'web-browser' applies to a web app"),
    ({**WEB, "dependencies": "{}"}, "Input 'dependencies' must be a JSON array"),
    ({**WEB, "dependencies": "[1]"}, "Input 'dependencies': entry 0 must be an app id (a string) or an object with exactly app_id and app_build_id"),
    ({**WEB, "dependencies": '[{"app_id": "a"}]'}, "Input 'dependencies': entry 0 must be"),
    ({**MOBILE, "dependencies": "[]"}, "Input 'dependencies' applies to a web app"),
    ({**MOBILE, "ios-keychain-remapping": "true"}, "Input 'ios-keychain-remapping' applies only to an .ipa"),
    (
        {**MOBILE, "platform": "ios", "build-path": "b/app.ipa", "ios-keychain-remapping": "maybe"},
        "Input 'ios-keychain-remapping' must be true or false",
    ),
    ({"app-id": "web", "suites": "s", "app-name": "x"}, "Input 'app-name' names a build to upload"),
]


@pytest.mark.parametrize(("inputs", "message"), BAD, ids=lambda value: str(value)[:50])
def test_a_wrong_build_input_is_one_clear_line_before_any_request(
    inputs: dict[str, str], message: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    result = autosana(sandbox, tmp_path, inputs)
    assert (result.outputs["status"], result.exit_code) == ("error", 2)
    errors = [line for line in result.log.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and message in errors[0], result.log
    assert result.requests == []


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (None, "Input 'build-path': 'build/app-release.apk' is not a file in the workspace; check the path, and that the build step ran first."),
        (b"", "Input 'build-path': 'build/app-release.apk' is empty; check that the build step produced it."),
    ],
    ids=["missing", "empty"],
)
def test_a_missing_or_empty_build_file_is_refused(build: bytes | None, message: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**MOBILE, "suites": "s"}, build=build)
    assert result.exit_code == 2 and message in result.log and result.requests == []


# --- The upload, then the flows ---


def test_the_build_is_uploaded_stamped_with_the_pull_requests_head_then_the_flows_run(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**MOBILE, "labels": "smoke, checkout", "environment": "staging", "variables": "PR=17"})
    assert (result.outputs["status"], result.exit_code) == ("passed", 0), result.log
    assert calls(result)[:4] == ["POST /api/ci/start-upload", "PUT storage", "POST /api/ci/confirm-upload", "POST /api/v1/flows/run"]
    assert sent(result, "/api/ci/start-upload") == {
        "bundle_id": "com.acme.shop",
        "platform": "android",
        "filename": "app-release.apk",
        "name": "app-release.apk 1111111",
        "environment": "staging",
    }
    confirm = sent(result, "/api/ci/confirm-upload")
    assert confirm["uploaded_file_path"].endswith("/app-release.apk") and confirm["variables"] == {"PR": "17"}
    assert (confirm["commit_sha"], confirm["branch_name"], confirm["repo_full_name"]) == (HEAD_SHA, "feature/cart", "acme/shop")
    assert sent(result, "/api/v1/flows/run")["labels"] == ["smoke", "checkout"] and sent(result, "/api/v1/flows/run")["environment"] == "staging"
    assert result.outputs["build-id"] == sandbox.emulators["autosana"].builds[-1]["app_build_id"]  # type: ignore[attr-defined]
    assert f"**Build under test:** app-release.apk (6 bytes) · build id {result.outputs['build-id']} · commit {HEAD_SHA[:12]} on feature/cart" in (
        result.summary
    )


def test_the_upload_carries_no_credentials_and_a_content_length(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**MOBILE, "suites": "s"}, build=b"x" * 300_000)
    (put,) = [r for r in result.requests if r["vendor"] == "_storage"]
    assert "x-api-key" not in put["headers"] and "authorization" not in put["headers"]
    assert put["headers"]["content-length"] == "300000" and "transfer-encoding" not in put["headers"]
    assert put["headers"]["content-type"] == "application/octet-stream"
    signature = put["query"]["X-Amz-Signature"][0]
    assert signature not in result.log.replace(f"::add-mask::{signature}", "") + result.summary + "".join(result.outputs.values())


def test_credentials_from_netrc_never_reach_storage(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password s3cr3t-pass\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))  # requests reads it for any host not given credentials
    result = autosana(sandbox, tmp_path, {**MOBILE, "suites": "s"})
    assert result.outputs["status"] == "passed", result.log  # sandbox storage answers 400 to a PUT with Authorization


def test_an_upload_with_nothing_to_run_is_the_whole_step(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, MOBILE)
    assert (result.outputs["status"], result.exit_code) == ("uploaded", 0), result.log
    assert calls(result) == ["POST /api/ci/start-upload", "PUT storage", "POST /api/ci/confirm-upload"]
    assert "uploaded app-release.apk as build build-" in result.summary and result.outputs["run-ids"] == ""
    assert "::error" not in result.log and "::warning" not in result.log


def test_a_chrome_extension_is_uploaded_without_an_environment(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**MOBILE, "platform": "chrome-extension", "build-path": "dist/extension.zip"})
    assert result.outputs["status"] == "uploaded", result.log
    assert "environment" not in sent(result, "/api/ci/start-upload")


def test_an_ipa_is_confirmed_with_the_keychain_remapping_and_may_take_long(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**MOBILE, "platform": "ios", "build-path": "build/Shop.ipa", "ios-keychain-remapping": "False"})
    assert result.outputs["status"] == "uploaded", result.log
    assert sent(result, "/api/ci/confirm-upload")["enable_ios_keychain_access_group_remapping"] is False
    assert "Autosana re-signs an .ipa, which can take up to 15 minutes" in result.log


def test_a_web_preview_is_registered_then_its_flows_run_in_the_browser_asked_for(sandbox: SandboxServer, tmp_path: Path) -> None:
    dependencies = '["app-2", {"app_id": "a", "app_build_id": "b"}]'
    result = autosana(sandbox, tmp_path, {**WEB, "suites": "s-1", "web-browser": "MSEdge", "dependencies": dependencies})
    assert result.outputs["status"] == "passed", result.log
    assert calls(result)[:2] == ["POST /api/ci/upload-web-build", "POST /api/v1/flows/run"]
    registration = sent(result, "/api/ci/upload-web-build")
    assert (registration["app_id"], registration["url"], registration["commit_sha"]) == ("shop-web", "https://preview-17.shop.example", HEAD_SHA)
    flows = sent(result, "/api/v1/flows/run")
    assert flows["web_browser"] == "edge" and flows["dependencies"] == ["app-2", {"app_id": "a", "app_build_id": "b"}]
    assert "**Build under test:** https://preview-17.shop.example · build id build-" in result.summary


@dataclass(frozen=True)
class FailedStep:
    fault: str
    inputs: dict[str, str]
    step: str  # how the summary names the step
    detail: str  # Autosana's (or storage's) own words
    requests: int  # requests sent, the failed one included


@pytest.mark.parametrize(
    "failed",
    [
        FailedStep("startfail", MOBILE, "Autosana upload step 1 of 3 (start the upload) failed", "has no android app in this workspace", 1),
        FailedStep("put403", MOBILE, "Autosana upload step 2 of 3 (send the file to storage)", "AccessDenied: Request has expired", 2),
        FailedStep("confirmfail", MOBILE, "Autosana upload step 3 of 3 (confirm the upload) failed", "bundle id does not match com.acme.shop", 3),
        FailedStep("registerfail", WEB, "Autosana web build registration failed", "did not answer; deploy the preview first", 1),
    ],
    ids=lambda failed: failed.fault,
)
def test_a_failed_step_is_an_error_naming_it_and_no_flows_run(failed: FailedStep, sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**failed.inputs, "suites": "s-1"}, f"sandbox-pass+{failed.fault}")
    assert (result.outputs["status"], result.exit_code) == ("error", 3), result.log
    assert failed.step in result.summary and failed.detail in result.summary
    assert len(calls(result)) == failed.requests and "POST /api/v1/flows/run" not in calls(result)


def test_a_5xx_from_storage_repeats_the_whole_upload(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**MOBILE, "suites": "s-1"}, "sandbox-pass+put503")
    assert result.outputs["status"] == "passed", result.log
    assert calls(result).count("PUT storage") == 2 and "storage answered HTTP 503; trying the whole upload again" in result.log


def test_vendor_warnings_are_annotations_and_listed_in_the_summary(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, MOBILE, "sandbox-pass+warnings")
    warnings = [line for line in result.log.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 2 and all(line.startswith("::warning title=Autosana warning::Autosana: ") for line in warnings)
    assert "> Autosana: The build's version code is lower than the last build's" in result.summary
    assert "> Autosana: Flows tagged 'flaky' are skipped on this plan" in result.summary


# --- Storage that misbehaves (a few-line server as both the API and its storage) ---


def storage_answering(put: Answer, *, scheme_host: str = "") -> Any:
    def behave(method: str, path: str) -> Answer:
        if path.endswith("/api/ci/start-upload"):
            return Answer(body={"upload_url": f"{scheme_host or SERVER}/bucket/app.apk?X-Amz-Signature=sig0123456789", "file_path": "b/app.apk"})
        if method == "PUT":
            return put
        return Answer(body={"status": "success", "app_build_id": "b-1"})

    return behave


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_storage_that_cannot_be_reached_is_tried_three_times_with_a_backoff(tmp_path: Path) -> None:
    unreachable = f"http://127.0.0.1:{closed_port()}"
    with hostile_server(storage_answering(Answer(), scheme_host=unreachable)) as api:
        result = run(tmp_path, api.url, "k_autosana_12345678", {**MOBILE, "suites": "s-1"})
    assert (result.outputs["status"], result.exit_code) == ("error", 3), result.log
    retries = [line for line in result.log.splitlines() if "(ConnectionError); trying the whole upload again in " in line]
    assert [line.rsplit(" ", 1)[1] for line in retries] == ["1s", "2s"]
    assert "could not reach storage at 127.0.0.1" in result.summary and "gave up after 3 attempts" in result.summary
    assert [method for method, _ in api.requests] == ["POST"]  # no confirm, no flows


@pytest.mark.parametrize(("status", "puts"), [(500, 3), (502, 3), (400, 1), (403, 1), (404, 1)])
def test_a_5xx_from_storage_is_tried_three_times_and_a_4xx_once(status: int, puts: int, tmp_path: Path) -> None:
    refusal = Answer(status, b"<Error><Code>Refused</Code><Message>Not today</Message></Error>", {"Content-Type": "application/xml"})
    with hostile_server(storage_answering(refusal)) as api:
        result = run(tmp_path, api.url, "k_autosana_12345678", {**MOBILE, "suites": "s-1"})
        methods = [method for method, _ in api.requests]
    assert result.outputs["status"] == "error" and methods == ["POST"] + ["PUT"] * puts, result.log
    assert f"storage answered HTTP {status}" in result.summary and "Refused: Not today" in result.summary
    assert "/api/v1/flows/run" not in result.log


def test_what_storage_says_is_redacted_before_it_is_cut(tmp_path: Path) -> None:
    echo = Answer(400, b"x" * 190 + b"sig0123456789 is not the signature", {"Content-Type": "text/plain"})
    with hostile_server(storage_answering(echo)) as api:
        result = run(tmp_path, api.url, "k_autosana_12345678", MOBILE)
    assert result.outputs["status"] == "error" and "storage answered HTTP 400" in result.summary
    written = result.log.replace("::add-mask::sig0123456789", "") + result.summary + "".join(result.outputs.values())
    assert "sig0123" not in written  # the cut (at 200 characters) would otherwise leave a part no later redaction can know


def test_a_redirect_from_storage_is_not_followed(tmp_path: Path) -> None:
    with hostile_server(lambda method, path: Answer()) as elsewhere:
        redirect = Answer(307, b"", {"Location": f"{elsewhere.url}/steal"})
        with hostile_server(storage_answering(redirect)) as api:
            result = run(tmp_path, api.url, "k_autosana_12345678", MOBILE)
        assert elsewhere.requests == []
    assert result.outputs["status"] == "error" and "storage answered HTTP 307 (a redirect, which is not followed)" in result.log


def test_a_plain_http_upload_url_to_another_host_is_refused(tmp_path: Path) -> None:
    with hostile_server(storage_answering(Answer(), scheme_host="http://storage.example.invalid")) as api:
        result = run(tmp_path, api.url, "k_autosana_12345678", MOBILE)
    assert result.outputs["status"] == "error" and "plain http:// upload URL on storage.example.invalid" in result.log
    assert [method for method, _ in api.requests] == ["POST"]


def test_an_upload_that_outlasts_the_timeout_ends_as_timeout(tmp_path: Path) -> None:
    with hostile_server(storage_answering(Answer(hang=True))) as api:
        started = time.monotonic()
        given = {"vendor": "autosana", "api-key": "k_autosana_12345678", "api-url": api.url, **MOBILE}
        given |= {"timeout": "3s", "poll-interval": "1s"}  # slack for the start-upload on a loaded machine: the PUT must begin
        (tmp_path / "build").mkdir()
        (tmp_path / MOBILE["build-path"]).write_bytes(b"apk")
        result = run_in_process(tmp_path, given, clock=SystemClock())
        puts = [path for method, path in api.requests if method == "PUT"]
    assert result.outputs["status"] == "timeout" and result.exit_code == 3, result.log
    assert puts and time.monotonic() - started < 5
    assert "had not finished when the timeout passed" in result.summary


# --- The sandbox's storage refuses what real storage refuses ---


@pytest.mark.parametrize(
    ("headers", "signed", "status", "code"),
    [
        ({"X-API-Key": "sandbox-pass"}, True, 400, "InvalidArgument"),
        ({"Authorization": "Bearer sandbox-pass"}, True, 400, "InvalidArgument"),
        ({"Transfer-Encoding": "chunked"}, True, 411, "MissingContentLength"),
        ({}, False, 403, "SignatureDoesNotMatch"),
        ({}, True, 200, ""),
    ],
    ids=["api-key", "authorization", "chunked", "wrong-signature", "accepted"],
)
def test_sandbox_storage_takes_only_a_signed_put_with_a_length_and_no_credentials(
    headers: dict[str, str], signed: bool, status: int, code: str, sandbox: SandboxServer
) -> None:
    file_path = f"b/{uuid.uuid4()}/probe.apk"  # the sandbox is shared: a path of this test's own
    url = sandbox.storage.presign(sandbox.url, file_path, frozenset())
    if not signed:
        url = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    body: Any = iter([b"apk"]) if "Transfer-Encoding" in headers else b"apk"  # a generator is sent chunked
    answer = requests.put(url, data=body, headers={k: v for k, v in headers.items() if k != "Transfer-Encoding"}, timeout=10)
    assert (answer.status_code, code in answer.text) == (status, True), answer.text
    uploaded = sandbox.storage.uploaded(file_path)
    assert (uploaded.size if uploaded else None) == (3 if status == 200 else None)


# --- Progress while uploading, on a fake clock ---


class TickingClock(FakeClock):
    """Time moves 3 s every time anything looks at it: a slow upload without waiting for one."""

    def monotonic(self) -> float:
        self.now += 3.0
        return self.now


def test_progress_is_printed_at_most_every_ten_seconds(sandbox: SandboxServer, tmp_path: Path) -> None:
    build = tmp_path / "app.apk"
    build.write_bytes(random.Random(1).randbytes(2 * 1024 * 1024))
    url = sandbox.storage.presign(sandbox.url, "b/app.apk", frozenset())
    clock = TickingClock()
    lines: list[str] = []
    times: list[float] = []

    def log(line: str) -> None:
        lines.append(line)
        times.append(clock.now)

    put_file(build, url, deadline=Deadline.after(clock, 10_000), log=log, label="upload", secrets=Secrets())
    progress = [(at, line) for at, line in zip(times, lines, strict=True) if " of 2.0 MiB (" in line]
    assert len(progress) >= 2 and all(line.startswith("upload: ") and "%), " in line and line.endswith(" MiB/s") for _, line in progress)
    assert all(later - earlier >= 10 for (earlier, _), (later, _) in itertools.pairwise(progress)), progress
    assert lines[0] == f"upload: uploading app.apk (2.0 MiB) to {sandbox.url}/_storage/{url.split('/_storage/')[1].split('?')[0]}"
    assert lines[-1] == "upload: uploaded app.apk (2.0 MiB)"
    assert sandbox.storage.uploaded("b/app.apk") is not None and sandbox.storage.uploaded("b/app.apk").size == 2 * 1024 * 1024  # type: ignore[union-attr]
