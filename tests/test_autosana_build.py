"""Autosana: uploading the build under test (or registering a preview URL), then running the flows, against the sandbox
and its storage, as a workflow runs it."""

from __future__ import annotations

import functools
import io
import itertools
import json
import plistlib
import random
import socket
import time
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

import sandbox.autosana as emulated_autosana
import suiterun.engine
from sandbox.server import SandboxServer
from suiterun.clock import Deadline, SystemClock
from suiterun.http import VendorClient
from suiterun.secrets import Secrets
from suiterun.upload import put_file
from tests.fake_github import TOKEN, running_fake_github
from tests.hostile import SERVER, Answer, hostile_server
from tests.hostile import autosana as flows_api
from tests.support import ActionRun, TickingClock, run_in_process, sandbox_url
from vendors.autosana_build import StartedFlows, started_flows

pytestmark = pytest.mark.io  # every test here runs a server or a process

MOBILE = {"bundle-id": "com.acme.shop", "platform": "android", "build-path": "build/app-release.apk"}
WEB = {"app-id": "shop-web", "app-url": "https://preview-17.shop.example"}
HEAD_SHA = "1111111111111111111111111111111111111117"
KEY = "k_autosana_12345678"  # for the few-line servers below


def run(
    tmp_path: Path, url: str, key: str, inputs: Mapping[str, str], *, build: bytes | None = b"an apk, say", extra_env: Mapping[str, str] | None = None
) -> ActionRun:
    """One run on a pull request's event, after a build step that wrote `build` to build-path (None: it wrote nothing)."""
    given = {"vendor": "autosana", "api-key": key, "api-url": url, "poll-interval": "5s", "timeout": "5m", **inputs}
    tmp_path.mkdir(parents=True, exist_ok=True)
    if given.get("build-path") and build is not None:
        (tmp_path / given["build-path"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / given["build-path"]).write_bytes(build)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 17, "pull_request": {"number": 17, "head": {"sha": HEAD_SHA}}}), encoding="utf-8")
    pull_request = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_HEAD_REF": "feature/cart"}
    return run_in_process(tmp_path, given, extra_env={**pull_request, **(extra_env or {})})


def autosana(
    sandbox: SandboxServer,
    tmp_path: Path,
    inputs: Mapping[str, str],
    key: str = "sandbox-pass",
    *,
    build: bytes | None = b"an apk",
    extra_env: Mapping[str, str] | None = None,
) -> ActionRun:
    sandbox.reset()
    result = run(tmp_path, sandbox_url(sandbox, "autosana"), key, inputs, build=build, extra_env=extra_env)
    return ActionRun(result.exit_code, result.outputs, result.summary, result.log, list(sandbox.requests))


def calls(result: ActionRun) -> list[str]:
    return [f"{r['method']} {r['path']}" if r["vendor"] != "_storage" else "PUT storage" for r in result.requests]


def sent(result: ActionRun, path: str) -> Any:
    return next(r["body"] for r in result.requests if r["path"] == path)


def ios_build(platform: str = "iphoneos", *, app: str = "Payload/Shop.app/", plist: plistlib.PlistFormat = plistlib.FMT_BINARY) -> bytes:
    """An .ipa (app under Payload/) or a zipped .app (app at the root) whose Info.plist says which platform it is built for."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{app}Info.plist", plistlib.dumps({"CFBundleIdentifier": "com.acme.shop", "DTPlatformName": platform}, fmt=plist))
        archive.writestr(f"{app}Shop", b"\xcf\xfa\xed\xfe a Mach-O binary")
    return buffer.getvalue()


IPA = {**MOBILE, "platform": "ios", "build-path": "build/Shop.ipa"}
SIMULATOR_ZIP = {**MOBILE, "platform": "ios", "build-path": "build/Shop.app.zip"}


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


def test_the_build_is_uploaded_stamped_with_the_pull_requests_head_then_the_flows_run_on_it(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**MOBILE, "labels": "smoke, checkout", "environment": "staging", "variables": "PR=17,BRANCH=x"})
    assert (result.outputs["status"], result.exit_code) == ("passed", 0), result.log
    assert calls(result)[:4] == ["POST /api/ci/start-upload", "PUT storage", "POST /api/ci/confirm-upload", "POST /api/v1/flows/run"]
    assert sent(result, "/api/ci/start-upload") == {
        "bundle_id": "com.acme.shop",
        "platform": "android",
        "filename": "app-release.apk",
        "environment": "staging",
    }
    confirm = sent(result, "/api/ci/confirm-upload")
    assert confirm["uploaded_file_path"].endswith("/app-release.apk") and "name" not in confirm
    assert confirm["variables"] == "PR=17,BRANCH=x"  # the upload endpoints' own form; flows/run takes the object
    assert (confirm["commit_sha"], confirm["branch_name"], confirm["repo_full_name"]) == (HEAD_SHA, "feature/cart", "acme/shop")
    flows = sent(result, "/api/v1/flows/run")
    assert flows["labels"] == ["smoke", "checkout"] and flows["environment"] == "staging" and flows["variables"] == {"PR": "17", "BRANCH": "x"}
    assert result.outputs["build-id"] == sandbox.emulators["autosana"].builds[-1]["app_build_id"]  # type: ignore[attr-defined]
    assert flows["app_build_id"] == result.outputs["build-id"]  # the flows test this build, whatever else is uploaded meanwhile
    assert f"**Build under test:** app-release.apk (6 bytes) · build id {result.outputs['build-id']} · commit {HEAD_SHA[:12]} on feature/cart" in (
        result.summary
    )
    assert f"Autosana runs com.acme.shop (android) at commit {HEAD_SHA} on feature/cart" in result.log
    assert "::warning" not in result.log


def test_app_name_is_the_apps_display_name_sent_only_when_given(sandbox: SandboxServer, tmp_path: Path) -> None:
    named = autosana(sandbox, tmp_path / "upload", {**MOBILE, "app-name": "Shop (nightly)"})
    assert named.outputs["status"] == "uploaded", named.log
    assert sent(named, "/api/ci/start-upload")["name"] == sent(named, "/api/ci/confirm-upload")["name"] == "Shop (nightly)"
    web = autosana(sandbox, tmp_path / "web", {**WEB, "app-name": "Shop web"})
    assert sent(web, "/api/ci/upload-web-build")["name"] == "Shop web"
    unnamed = autosana(sandbox, tmp_path / "unnamed", WEB)
    assert "name" not in sent(unnamed, "/api/ci/upload-web-build")
    uploaded = autosana(sandbox, tmp_path / "uploaded", MOBILE)  # no name of the action's making renames the app
    assert "name" not in sent(uploaded, "/api/ci/start-upload") and "name" not in sent(uploaded, "/api/ci/confirm-upload")


def test_a_comma_in_a_variable_is_refused_before_an_upload(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**MOBILE, "suites": "s-1", "variables": "GREETING=hello, world\nPR=17"})
    assert (result.outputs["status"], result.exit_code) == ("error", 2) and result.requests == []
    assert "Input 'variables': the value of 'GREETING' holds a comma, which Autosana's upload endpoints cannot take" in result.summary
    without_upload = autosana(sandbox, tmp_path / "plain", {"app-id": "shop-web", "suites": "s-1", "variables": "GREETING=hello, world\nPR=17"})
    assert without_upload.outputs["status"] == "passed", without_upload.log  # flows/run takes the JSON object
    assert sent(without_upload, "/api/v1/flows/run")["variables"] == {"GREETING": "hello, world", "PR": "17"}


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
    result = autosana(sandbox, tmp_path, {**IPA, "ios-keychain-remapping": "False"}, build=ios_build())
    assert result.outputs["status"] == "uploaded", result.log
    assert sent(result, "/api/ci/confirm-upload")["enable_ios_keychain_access_group_remapping"] is False
    assert "Autosana re-signs an .ipa, which can take up to 15 minutes" in result.log


@pytest.mark.parametrize(
    ("inputs", "build"),
    [
        (IPA, ios_build()),
        (IPA, ios_build(plist=plistlib.FMT_XML)),
        (SIMULATOR_ZIP, ios_build("iphonesimulator", app="Shop.app/")),
        ({**MOBILE, "build-path": "build/app-release.aab"}, b"an app bundle"),  # its CLI refuses it, its CI action lists it: kept
    ],
    ids=["ipa", "ipa-xml-plist", "zipped-app", "aab"],
)
def test_a_build_that_fits_its_platform_is_uploaded(inputs: dict[str, str], build: bytes, sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, inputs, build=build)
    assert result.outputs["status"] == "uploaded", result.log


def cut_zip() -> bytes:
    return ios_build()[:-30]  # the end of the zip (its directory) is missing


@pytest.mark.parametrize(
    ("inputs", "build", "message"),
    [
        (IPA, b"an apk renamed", "Input 'build-path': 'Shop.ipa' is not a zip archive: an .ipa is a zip archive holding Payload/<App>.app"),
        (IPA, cut_zip(), "Input 'build-path': 'Shop.ipa' is not a zip archive"),
        (IPA, ios_build(app="Shop.app/"), "Input 'build-path': 'Shop.ipa' holds no Payload/<App>.app/Info.plist, so it cannot be installed"),
        (IPA, ios_build(app="Payload/Shop/"), "holds no Payload/<App>.app/Info.plist"),
        (IPA, ios_build("iphonesimulator"), "'Shop.ipa' holds an app built for iphonesimulator, not one for devices (iphoneos)"),
        (IPA, ios_build("macosx"), "'Shop.ipa' holds an app built for macosx, not one for devices"),
        (SIMULATOR_ZIP, ios_build("iphonesimulator"), "'Shop.app.zip' holds no <App>.app/Info.plist, so it cannot be installed: zip the .app folder"),
        (SIMULATOR_ZIP, ios_build(app="Shop.app/"), "'Shop.app.zip' holds an app built for iphoneos, not one for the simulator (iphonesimulator)"),
        (SIMULATOR_ZIP, ios_build("", app="Shop.app/"), "holds an app whose Info.plist names neither iphoneos nor iphonesimulator"),
    ],
    ids=[
        "not-a-zip",
        "cut-zip",
        "ipa-without-payload",
        "ipa-without-app",
        "ipa-for-simulator",
        "ipa-for-mac",
        "zip-without-app",
        "zip-for-device",
        "zip-no-platform",
    ],
)
def test_an_ios_build_is_checked_by_what_it_holds_before_anything_is_sent(
    inputs: dict[str, str], build: bytes, message: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    result = autosana(sandbox, tmp_path, {**inputs, "suites": "s-1"}, build=build)
    assert (result.outputs["status"], result.exit_code) == ("error", 2), result.log
    assert message in result.log and result.requests == []


def test_an_info_plist_too_big_to_be_one_is_not_read(sandbox: SandboxServer, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Payload/Shop.app/Info.plist", b"\0" * (2 * 1024 * 1024))  # inflates to 2 MiB from 2 KiB
    result = autosana(sandbox, tmp_path, IPA, build=buffer.getvalue())
    assert result.exit_code == 2 and "its Payload/Shop.app/Info.plist is 2097152 bytes, too big to be an app's Info.plist" in result.summary


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


@pytest.mark.parametrize("inputs", [MOBILE, WEB], ids=["upload", "registration"])
def test_a_success_status_carrying_a_detail_is_an_error_quoting_it(inputs: dict[str, str], sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**inputs, "suites": "s-1"}, "sandbox-pass+detail200")
    assert (result.outputs["status"], result.exit_code) == ("error", 3), result.log
    assert "Autosana's answer carries the error 'Duplicate upload: this build was confirmed already'" in result.summary
    assert "POST /api/v1/flows/run" not in calls(result) and result.outputs["build-id"] == ""


def test_a_password_in_app_url_is_masked_and_the_url_shown_without_it(sandbox: SandboxServer, tmp_path: Path) -> None:
    url = "https://preview:s3cr3t-Pa55@preview-17.shop.example/"
    with running_fake_github() as github:
        comment = {"comment": "always", "github-token": TOKEN, "matrix": "null"}
        result = autosana(sandbox, tmp_path, {**WEB, "app-url": url, "suites": "s-1", **comment}, extra_env={"GITHUB_API_URL": github.url})
        (body,) = github.bodies("acme/shop", 17)
    assert result.outputs["status"] == "passed", result.log
    assert sent(result, "/api/ci/upload-web-build")["url"] == url  # Autosana gets the URL whole, to reach the preview
    assert "::add-mask::s3cr3t-Pa55" in result.log  # masked in the runner's log too
    written = [result.log.replace("::add-mask::preview:s3cr3t-Pa55", "").replace("::add-mask::s3cr3t-Pa55", ""), result.summary, body]
    written += result.outputs.values()
    assert not [text for text in written if "s3cr3t" in text or "preview:" in text]
    assert "Autosana: build under test https://preview-17.shop.example/, build id build-" in result.log
    assert "**Build under test:** https://preview-17.shop.example/ · build id" in result.summary and result.outputs["summary"] == result.summary
    assert "Build under test: https://preview-17.shop.example/ · build id" in body


def test_a_password_in_app_url_that_autosana_echoes_is_redacted(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(
        sandbox, tmp_path, {**WEB, "app-url": "https://qa:Pa55word-9@preview-17.shop.example", "suites": "s-1"}, "sandbox-pass+registerfail"
    )
    assert result.outputs["status"] == "error" and "https://***@preview-17.shop.example did not answer" in result.log
    unmasked = [line for line in result.log.splitlines() if not line.startswith("::add-mask::")]
    assert "Pa55word-9" not in "\n".join(unmasked) + result.summary + "".join(result.outputs.values())
    refused = autosana(sandbox, tmp_path / "ftp", {**WEB, "app-url": "ftp://qa:Pa55word-9@files.shop.example/build"})
    assert "Input 'app-url' must be an http(s) URL of the deployed web build, got 'ftp://files.shop.example/build'." in refused.log
    assert "Pa55word" not in refused.log + refused.summary


# --- What an upload starts by itself (the app's CI/CD automations) ---


def status_reads(result: ActionRun) -> set[str]:
    return {r["query"]["batch_id"][0] for r in result.requests if r["path"] == "/api/v1/runs/status"}


def test_flows_an_upload_starts_are_judged_when_nothing_else_is_asked(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, MOBILE, "sandbox-mixed+automations")
    assert (result.outputs["status"], result.exit_code) == ("failed", 1), result.log
    assert "POST /api/v1/flows/run" not in calls(result) and status_reads(result) == {result.outputs["run-ids"]}
    started = "Login with valid credentials, Checkout with expired card, Reset password, Add to cart"
    assert f"Autosana: the upload started 4 flows (the app's CI/CD automations): {started}" in result.log
    assert (result.outputs["total"], result.outputs["failed"], result.outputs["errored"]) == ("4", "1", "1")
    assert "**Build under test:** app-release.apk" in result.summary


@pytest.mark.parametrize(("scenario", "status"), [("pass", "passed"), ("skipped", "error"), ("empty", "uploaded")])
def test_what_an_upload_starts_is_judged_by_the_same_rules(scenario: str, status: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, MOBILE, f"sandbox-{scenario}+automations")
    assert result.outputs["status"] == status, result.log  # every flow skipped is not a pass; an upload that started none is the step


def test_flows_an_upload_starts_without_wait_are_reported_as_started(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**MOBILE, "wait": "false"}, "sandbox-pass+automations")
    assert (result.outputs["status"], result.exit_code) == ("triggered", 0), result.log
    assert result.outputs["run-ids"] and status_reads(result) == set()


def test_flows_an_upload_starts_in_no_known_batch_are_named_and_not_judged(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, MOBILE, "sandbox-pass+automations-nobatch")
    assert (result.outputs["status"], result.exit_code) == ("uploaded", 0), result.log
    warning = (
        "Autosana: the upload started 3 flows (the app's CI/CD automations): Login with valid credentials, Search for a product, "
        "Add to cart; its answer names no batch to read their results from, so this step does not judge them"
    )
    assert warning in result.log and warning in result.summary
    assert status_reads(result) == set()


def test_asking_for_flows_an_upload_already_started_warns_that_runs_may_double(sandbox: SandboxServer, tmp_path: Path) -> None:
    emulator: Any = sandbox.emulators["autosana"]
    before = emulator.runs_created
    result = autosana(sandbox, tmp_path, {**MOBILE, "suites": "s-1"}, "sandbox-mixed+automations")
    assert (result.outputs["status"], result.exit_code) == ("failed", 1), result.log
    warning = "Autosana: the upload already started 4 flows (the app's CI/CD automations): Login with valid credentials"
    assert warning in result.log and warning in result.summary and "flows may run twice, and cost twice" in result.summary
    assert calls(result).count("POST /api/v1/flows/run") == 1 and emulator.runs_created == before + 2
    assert status_reads(result) == {result.outputs["run-ids"]}  # the batch asked for is the one judged


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({}, StartedFlows()),
        ({"triggered_flows": {}, "batch_id": "b-1"}, StartedFlows()),
        ({"triggered_flows": None}, StartedFlows()),
        ({"triggered_flows": ["Login", "Checkout"]}, StartedFlows(2, ("Login", "Checkout"))),
        ({"triggered_flows": [{"id": "f-1", "name": "Login"}, {"flow_id": 12}, {}, True]}, StartedFlows(4, ("Login", "12"))),
        (
            {"triggered_flows": {"f-1": "Login", "f-2": {"name": "Pay", "batch_id": "b-9"}, "f-3": None}},
            StartedFlows(3, ("Login", "Pay", "f-3"), ("b-9",)),
        ),
        ({"triggered_flows": {"f-1": "Login"}, "batch_id": "b-1"}, StartedFlows(1, ("Login",), ("b-1",))),
        ({"triggered_flows": [{"name": "A", "batch_id": "b-1"}, {"name": "B", "batch_id": "b-2"}]}, StartedFlows(2, ("A", "B"), ("b-1", "b-2"))),
        ({"triggered_flows": 3}, StartedFlows(unread="int")),
        ({"triggered_flows": "Login"}, StartedFlows(unread="str")),
    ],
    ids=["none", "empty-mapping", "null", "names", "objects", "mapping", "batch-beside", "two-batches", "number", "text"],
)
def test_triggered_flows_are_read_in_any_shape_a_source_leaves_open(answer: dict[str, Any], expected: StartedFlows) -> None:
    assert started_flows(answer) == expected


def test_more_than_ten_started_flows_are_counted_not_all_named() -> None:
    started = started_flows({"triggered_flows": [f"Flow {n}" for n in range(12)]})
    assert (
        started.describe()
        == "12 flows (the app's CI/CD automations): Flow 0, Flow 1, Flow 2, Flow 3, Flow 4, Flow 5, Flow 6, Flow 7, Flow 8, Flow 9 and 2 more"
    )


# --- Which build ran, and the trigger that takes its time ---


def test_a_run_of_another_commits_build_is_warned_about(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = autosana(sandbox, tmp_path, {**MOBILE, "suites": "s-1"}, "sandbox-pass+otherbuild")
    assert result.outputs["status"] == "passed", result.log
    warning = f"Autosana ran the build of commit {emulated_autosana.OTHER_COMMIT} on main, not the build this step uploaded (commit {HEAD_SHA[:12]})"
    assert warning in result.log and warning in result.summary
    assert len([line for line in result.log.splitlines() if line.startswith("::warning")]) == 1  # said once, not at every read


def test_a_slow_trigger_is_waited_for_once_and_never_repeated(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulated_autosana, "TRIGGER_DELAY", 1.0)
    # Every other request gives up after half a second here: the trigger alone may take longer.
    monkeypatch.setattr(suiterun.engine, "VendorClient", functools.partial(VendorClient, read_timeout=0.3, request_timeout=0.5))
    result = autosana(sandbox, tmp_path, {**MOBILE, "suites": "s-1"}, "sandbox-pass+slowtrigger")
    assert (result.outputs["status"], result.exit_code) == ("passed", 0), result.log
    assert calls(result).count("POST /api/v1/flows/run") == 1


# --- Answers that differ from the sandbox's (a few-line server as the API and its storage) ---


def uploads_then_runs(confirm: Answer) -> Any:
    """An Autosana API whose start-upload and storage work, whose confirm and registration answer `confirm`, then runs flows."""
    upload, flows = storage_answering(Answer()), flows_api()

    def behave(method: str, path: str) -> Answer:
        if path.endswith(("/api/ci/confirm-upload", "/api/ci/upload-web-build")):
            return confirm
        return flows(method, path) if "/api/v1/" in path else upload(method, path)

    return behave


@pytest.mark.parametrize(
    ("answer", "status", "said"),
    [
        (
            {"status": "confirmed", "app_id": "app-123"},
            "passed",
            "Autosana gave no build id for the upload, so the flows run on the app's active build",
        ),
        ({"status": "registered", "app_id": "shop-web"}, "passed", "Autosana gave no build id"),
        ({"app_build_id": "b-7"}, "passed", "Autosana: build under test app-release.apk, build id b-7"),
        ({"status": "failed", "message": "quota"}, "error", "Autosana did not accept the build app-release.apk: it answered {'status': 'failed'"),
    ],
    ids=["confirmed", "registered", "no-status", "failed"],
)
def test_the_build_status_words_the_vendors_tools_show_are_accepted(answer: dict[str, Any], status: str, said: str, tmp_path: Path) -> None:
    with hostile_server(uploads_then_runs(Answer(body=answer))) as api:
        result = run(tmp_path, api.url, KEY, {**MOBILE, "suites": "s-1"})
    assert result.outputs["status"] == status and said in result.log, result.log


def test_triggered_flows_this_action_cannot_read_are_warned_about(tmp_path: Path) -> None:
    with hostile_server(uploads_then_runs(Answer(body={"status": "success", "app_build_id": "b-1", "triggered_flows": 3}))) as api:
        result = run(tmp_path, api.url, KEY, MOBILE)
    assert result.outputs["status"] == "uploaded", result.log
    assert "::warning::Autosana answered the upload with `triggered_flows` as int, which this action cannot read" in result.log
    assert "with \\`triggered\\_flows\\` as int" in result.summary


@pytest.mark.parametrize(
    ("warnings", "annotated"),
    [
        ("Rebuild with Xcode 16", ["Autosana: Rebuild with Xcode 16"]),
        (7, ["Autosana upload step 3 of 3 (confirm the upload) answered with `warnings` as int, not text or a list of texts; ignored."]),
        (
            ["Rebuild", 3, None, ""],
            [
                "Autosana: Rebuild",
                "Autosana upload step 3 of 3 (confirm the upload) answered with warnings this action cannot read (2 not text); they are ignored.",
            ],
        ),
    ],
    ids=["text", "number", "mixed-list"],
)
def test_warnings_of_any_shape_are_read_or_named_never_an_internal_error(warnings: Any, annotated: list[str], tmp_path: Path) -> None:
    with hostile_server(uploads_then_runs(Answer(body={"status": "success", "app_build_id": "b-1", "warnings": warnings}))) as api:
        result = run(tmp_path, api.url, KEY, MOBILE)
    assert result.outputs["status"] == "uploaded", result.log
    assert [line.rsplit("::", 1)[1] for line in result.log.splitlines() if line.startswith("::warning")] == annotated


def test_thousands_of_warnings_make_ten_annotations_and_a_count(tmp_path: Path) -> None:
    many = [f"warning {n}" for n in range(5000)]
    with hostile_server(uploads_then_runs(Answer(body={"status": "success", "app_build_id": "b-1", "warnings": many}))) as api:
        result = run(tmp_path, api.url, KEY, MOBILE)
    annotations = [line for line in result.log.splitlines() if line.startswith("::warning")]
    assert len(annotations) == 10 and annotations[-1].endswith("::Autosana: warning 9"), result.log[-500:]
    assert "Warning (Autosana warning): Autosana: warning 4999" in result.log  # the log keeps every one
    assert "4990 more warnings (Autosana warning) in the log only." in result.summary and result.summary.count("[!WARNING]") == 11


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
        result = run(tmp_path, api.url, KEY, {**MOBILE, "suites": "s-1"})
    assert (result.outputs["status"], result.exit_code) == ("error", 3), result.log
    retries = [line for line in result.log.splitlines() if "(ConnectionError); trying the whole upload again in " in line]
    assert [line.rsplit(" ", 1)[1] for line in retries] == ["1s", "2s"]
    assert "could not reach storage at 127.0.0.1" in result.summary and "gave up after 3 attempts" in result.summary
    assert [method for method, _ in api.requests] == ["POST"]  # no confirm, no flows


@pytest.mark.parametrize(("status", "puts"), [(500, 3), (502, 3), (400, 1), (403, 1), (404, 1)])
def test_a_5xx_from_storage_is_tried_three_times_and_a_4xx_once(status: int, puts: int, tmp_path: Path) -> None:
    refusal = Answer(status, b"<Error><Code>Refused</Code><Message>Not today</Message></Error>", {"Content-Type": "application/xml"})
    with hostile_server(storage_answering(refusal)) as api:
        result = run(tmp_path, api.url, KEY, {**MOBILE, "suites": "s-1"})
        methods = [method for method, _ in api.requests]
    assert result.outputs["status"] == "error" and methods == ["POST"] + ["PUT"] * puts, result.log
    assert f"storage answered HTTP {status}" in result.summary and "Refused: Not today" in result.summary
    assert "/api/v1/flows/run" not in result.log


def test_what_storage_says_is_redacted_before_it_is_cut(tmp_path: Path) -> None:
    echo = Answer(400, b"x" * 190 + b"sig0123456789 is not the signature", {"Content-Type": "text/plain"})
    with hostile_server(storage_answering(echo)) as api:
        result = run(tmp_path, api.url, KEY, MOBILE)
    assert result.outputs["status"] == "error" and "storage answered HTTP 400" in result.summary
    written = result.log.replace("::add-mask::sig0123456789", "") + result.summary + "".join(result.outputs.values())
    assert "sig0123" not in written  # the cut (at 200 characters) would otherwise leave a part no later redaction can know


def test_a_redirect_from_storage_is_not_followed(tmp_path: Path) -> None:
    with hostile_server(lambda method, path: Answer()) as elsewhere:
        redirect = Answer(307, b"", {"Location": f"{elsewhere.url}/steal"})
        with hostile_server(storage_answering(redirect)) as api:
            result = run(tmp_path, api.url, KEY, MOBILE)
        assert elsewhere.requests == []
    assert result.outputs["status"] == "error" and "storage answered HTTP 307 (a redirect, which is not followed)" in result.log


def test_a_plain_http_upload_url_to_another_host_is_refused(tmp_path: Path) -> None:
    with hostile_server(storage_answering(Answer(), scheme_host="http://storage.example.invalid")) as api:
        result = run(tmp_path, api.url, KEY, MOBILE)
    assert result.outputs["status"] == "error" and "plain http:// upload URL on storage.example.invalid" in result.log
    assert [method for method, _ in api.requests] == ["POST"]


def test_an_upload_that_outlasts_the_timeout_ends_as_timeout(tmp_path: Path) -> None:
    with hostile_server(storage_answering(Answer(hang=True))) as api:
        started = time.monotonic()
        given = {"vendor": "autosana", "api-key": KEY, "api-url": api.url, **MOBILE}
        given |= {"timeout": "4s", "poll-interval": "1s"}  # slack for the start-upload on a loaded machine: the PUT must begin
        (tmp_path / "build").mkdir()
        (tmp_path / MOBILE["build-path"]).write_bytes(b"apk")
        result = run_in_process(tmp_path, given, clock=SystemClock())
        elapsed = time.monotonic() - started
    assert result.outputs["status"] == "timeout" and result.exit_code == 3, result.log
    assert elapsed < 15, elapsed  # 4 s, not storage's 60 s read timeout (a loaded machine adds a few)
    # The PUT itself is cut by the deadline (test_upload.py); on a loaded machine the start-upload may take the 4 s.
    assert "had not finished when the timeout passed" in result.summary or "no time left to upload" in result.summary


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
