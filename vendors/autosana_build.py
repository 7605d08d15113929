"""Autosana: put the build this change produced under test before the flows run, by uploading the file or registering
a web preview URL.

These endpoints are not on Autosana's API page; they come from the vendor's own tools: its CI action
(https://github.com/Autosana/autosana-ci/blob/main/entrypoint.sh) and its CLI (autosana_cli/builds.py and
builds_cmd.py of https://pypi.org/project/autosana/). docs/vendors/autosana.md traces every field to its source.
1. POST /api/ci/start-upload {bundle_id, platform, filename, name?, environment? (not for chrome-extension)}
   -> {upload_url, file_path, warnings?}
2. PUT upload_url: the file's bytes, Content-Type application/octet-stream, no API key (a presigned storage URL on
   another host; it needs a Content-Length).
3. POST /api/ci/confirm-upload {bundle_id, platform, uploaded_file_path, commit_sha, branch_name, repo_full_name, name?,
   environment?, variables? ("K=V,K2=V2"), enable_ios_keychain_access_group_remapping? (.ipa on ios only)}
   -> {status?, app_build_id?, triggered_flows?, warnings?}; an .ipa can take up to 15 minutes (re-signing).
4. Web: POST /api/ci/upload-web-build {app_id, url, commit_sha, branch_name, repo_full_name, name?, environment?,
   variables?, dependencies?} -> {status?, app_build_id?, triggered_flows?}.
`name` is the app's display name, which Autosana updates when the app exists: it is sent only when `app-name` is given
(the CLI leaves it out; the action sends its input, "" when empty). An error is {"detail": ...}, with HTTP 200 too (the
action fails on any `detail`). An answer with a `detail`, an unknown `status`, or without the fields we need stops the
run with the answer quoted (a wrong guess fails loudly, never runs flows on an unknown build).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from suiterun.errors import InputError, TimeoutReached, VendorError
from suiterun.gitmeta import GitMetadata
from suiterun.http import VendorClient
from suiterun.inputs import Common, Inputs, is_loopback, parse_bool, parse_workspace_path
from suiterun.results import BuildUnderTest, plural
from suiterun.text import describe_body, one_line
from suiterun.upload import put_file

from .autosana_ios import check_ios_build
from .base import Reporter

# Which files each platform takes (from the vendor's CI action): a zipped .app is an iOS simulator build. Its CLI
# refuses an .aab ("Upload a universal .apk"), its action lists it: kept, since a refusal by Autosana is a clear
# error while one by us would block a format its CI endpoint may take (docs/vendors/autosana.md says an .apk is the safe choice).
EXTENSIONS = {"android": (".apk", ".aab"), "ios": (".ipa", ".zip"), "chrome-extension": (".zip",)}
# A confirm of an .ipa waits for Autosana to re-sign it (up to 15 minutes, per the vendor's CI action): one request,
# bounded by `timeout` like everything else, with no retry (it creates the build).
CONFIRM_SECONDS = 15 * 60.0
# A build's `status` words taken as accepted: `success` (what flows/run answers on the API page), `confirmed` and
# `registered` (what the action's own test double answers, tests/mocks/curl in autosana-ci); the action and the CLI
# read no status at all. Any other word stops the run.
ACCEPTED = ("success", "confirmed", "registered")
# Flow names of what an upload started, at most this many in one line.
MAX_NAMES = 10
# A URL's scheme and its user information (up to the last @ before the path, query or fragment).
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)@")


@dataclass(frozen=True)
class BuildOptions:
    """What to put under test: a file to upload (`path`, mobile or Chrome extension) or a URL to register (web)."""

    path: Path | None = None  # absolute, checked to be a non-empty file inside the workspace
    url: str = ""
    name: str = ""  # the app's display name; "" sends none
    environment: str = ""
    variables: str = ""  # in Autosana's own form, K=V,K2=V2
    ios_keychain_remapping: bool | None = None
    allow_http: bool = False


@dataclass(frozen=True)
class StartedFlows:
    """What an upload started by itself: the app's CI/CD automations, read from `triggered_flows` of the answer.

    No source shows its shape (the CLI counts it, `len(triggered_flows or {})`), so it is read tolerantly: a list of
    objects with an id and/or name, or of strings, or a mapping of id to name or object. The batch they run in is a
    guess: a `batch_id` beside them or in their objects."""

    count: int = 0
    names: tuple[str, ...] = ()
    batch_ids: tuple[str, ...] = ()
    unread: str = ""  # the JSON type of a `triggered_flows` this action cannot read; "" when read

    def describe(self) -> str:
        shown = ", ".join(self.names[:MAX_NAMES]) + (f" and {len(self.names) - MAX_NAMES} more" if len(self.names) > MAX_NAMES else "")
        return f"{plural(self.count, 'flow')} (the app's CI/CD automations){f': {shown}' if shown else ''}"


def parse_build(inputs: Inputs, common: Common, *, platform: str, app_id: str, variables: Mapping[str, str] | None) -> BuildOptions | None:
    """The build inputs, checked before any request; None when there is nothing to upload or register."""
    build_path, app_url = inputs.get("build-path"), inputs.get("app-url")
    remapping = inputs.get("ios-keychain-remapping")
    if build_path and app_url:
        raise InputError("Autosana takes input 'build-path' (a mobile build or Chrome extension) or 'app-url' (a web build), not both.")
    if remapping and not build_path.lower().endswith(".ipa"):
        raise InputError("Input 'ios-keychain-remapping' applies only to an .ipa uploaded with 'build-path' and platform ios.")
    shared = BuildOptions(name=inputs.get("app-name"), environment=inputs.get("environment"), allow_http=common.allow_http)
    if app_url:
        if not app_id:
            raise InputError("Input 'app-url' registers a web build: give the web app's 'app-id' with it (not bundle-id and platform).")
        if not _is_web_url(app_url):
            raise InputError(f"Input 'app-url' must be an http(s) URL of the deployed web build, got '{shown_url(app_url)}'.")
        return replace(shared, url=app_url, variables=upload_variables(variables))
    if not build_path:
        if shared.name:
            raise InputError("Input 'app-name' names a build to upload ('build-path') or register ('app-url'); neither is given.")
        return None
    if app_id:
        raise InputError(
            "Input 'build-path' uploads a mobile build or Chrome extension: give 'bundle-id' and 'platform' with it; a web build is 'app-url'."
        )
    workspace = common.context.workspace
    relative = parse_workspace_path("build-path", build_path, workspace)
    assert relative is not None  # build_path is not empty
    path = workspace.resolve() / relative
    if not path.is_file():
        raise InputError(f"Input 'build-path': '{build_path}' is not a file in the workspace; check the path, and that the build step ran first.")
    if path.stat().st_size == 0:
        raise InputError(f"Input 'build-path': '{build_path}' is empty; check that the build step produced it.")
    if not path.name.lower().endswith(EXTENSIONS[platform]):
        expected = " or ".join(EXTENSIONS[platform])
        raise InputError(f"Input 'build-path': '{path.name}' is not a build for platform {platform}, which takes {expected}.")
    keychain = parse_bool("ios-keychain-remapping", remapping) if remapping else None
    if keychain is not None and platform != "ios":
        raise InputError("Input 'ios-keychain-remapping' applies only to an .ipa with platform ios.")
    if shared.environment and platform == "chrome-extension":
        raise InputError("Input 'environment' does not apply to a Chrome extension upload (Autosana takes none for it).")
    if platform == "ios":
        check_ios_build(path)
    return replace(shared, path=path, ios_keychain_remapping=keychain, variables=upload_variables(variables))


def upload_variables(variables: Mapping[str, str] | None) -> str:
    """`variables` as the upload endpoints take them: `K=V,K2=V2`, the only form the vendor's action sends there (its
    API page shows the JSON object for flows/run only). A value holding a comma cannot be written so: an input error."""
    for key, value in (variables or {}).items():
        if "," in value:
            raise InputError(
                f"Input 'variables': the value of '{key}' holds a comma, which Autosana's upload endpoints cannot take "
                "(they read KEY=VALUE pairs separated by commas); remove the comma from the value."
            )
    return ",".join(f"{key}={value}" for key, value in (variables or {}).items())


def shown_url(url: str) -> str:
    """The URL as it may be shown: without the user and password of a preview behind basic authentication."""
    return _USERINFO.sub(r"\1", url)


def url_secrets(url: str) -> list[str]:
    """What of a URL's user information is secret: all of it, and the password as written and decoded."""
    found = _USERINFO.match(url)
    if not found:
        return []
    userinfo = found.group(2)
    password = userinfo.partition(":")[2]
    return [value for value in (userinfo, password, unquote(password)) if value]


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # a malformed IPv6 host
        return False


def started_flows(answer: Mapping[str, Any]) -> StartedFlows:
    """The flows an upload or registration started, from its answer (see StartedFlows)."""
    value = answer.get("triggered_flows")
    if isinstance(value, dict):
        entries = [(str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        entries = [("", item) for item in value]
    elif value is None:
        entries = []
    else:
        return StartedFlows(unread=type(value).__name__)
    if not entries:
        return StartedFlows()
    found = (answer.get("batch_id"), *(item.get("batch_id") for _, item in entries if isinstance(item, dict)))
    batches = [text for text in map(_text, found) if text]
    names = tuple(name for name in (_flow_name(key, item) for key, item in entries) if name)
    return StartedFlows(len(entries), names, tuple(dict.fromkeys(batches)))


def _flow_name(key: str, item: Any) -> str:
    """A flow's name where the entry gives one, else its id."""
    if isinstance(item, dict):
        return next((text for text in (_text(item.get(field)) for field in ("name", "flow_name", "id", "flow_id")) if text), key)
    return _text(item) or key


def _text(value: Any) -> str:
    """A string or a number as text; '' for anything else."""
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


@dataclass
class BuildSteps:
    """Uploads or registers one build, step by step; an error names the step and shows the vendor's answer."""

    client: VendorClient
    reporter: Reporter
    git: GitMetadata

    def upload(self, build: BuildOptions, *, bundle_id: str, platform: str) -> tuple[BuildUnderTest, StartedFlows]:
        assert build.path is not None
        path = build.path
        named = {"name": build.name} if build.name else {}
        start: dict[str, Any] = {"bundle_id": bundle_id, "platform": platform, "filename": path.name, **named}
        if build.environment:
            start["environment"] = build.environment
        step = "Autosana upload step 1 of 3 (start the upload)"
        slot = self._step(step, lambda: self.client.post("/api/ci/start-upload", what="the start of the upload", body=start))
        upload_url, file_path = slot.get("upload_url"), slot.get("file_path")
        if not isinstance(upload_url, str) or not isinstance(file_path, str) or not upload_url.startswith(("https://", "http://")):
            raise VendorError(f"{step} answered {describe_body(slot)}, without upload_url and file_path.")
        for _, value in parse_qsl(urlsplit(upload_url).query):
            self.reporter.mask(value)  # the presigned URL's signature is a credential of its own
        storage = urlsplit(upload_url)
        if storage.scheme == "http" and not (build.allow_http or is_loopback(storage.hostname or "")):
            raise VendorError(
                f"Autosana upload step 1 of 3 gave a plain http:// upload URL on {storage.hostname}: the build would cross the network "
                "unencrypted. Set allow-http: true only for a test server you trust."
            )
        label = "Autosana upload step 2 of 3 (send the file to storage)"
        put_file(
            path, upload_url, deadline=self.client.deadline, log=self.reporter.info, label=label, secrets=self.client.secrets, debug=self.client.debug
        )
        confirm: dict[str, Any] = {"bundle_id": bundle_id, "platform": platform, "uploaded_file_path": file_path, **named, **self._git_fields()}
        if build.environment:
            confirm["environment"] = build.environment
        if build.variables:
            confirm["variables"] = build.variables
        if build.ios_keychain_remapping is not None:
            confirm["enable_ios_keychain_access_group_remapping"] = build.ios_keychain_remapping
        if path.suffix.lower() == ".ipa":
            self.reporter.info("Autosana upload step 3 of 3: Autosana re-signs an .ipa, which can take up to 15 minutes")
        confirmed = self._step(
            "Autosana upload step 3 of 3 (confirm the upload)",
            lambda: self.client.post("/api/ci/confirm-upload", what="the confirmation of the upload", body=confirm, seconds=CONFIRM_SECONDS),
        )
        return self._built(path.name, confirmed, size=path.stat().st_size), started_flows(confirmed)

    def register(self, build: BuildOptions, *, app_id: str, dependencies: list[Any] | None) -> tuple[BuildUnderTest, StartedFlows]:
        body: dict[str, Any] = {"app_id": app_id, "url": build.url, **self._git_fields()}
        if build.name:
            body["name"] = build.name
        if build.environment:
            body["environment"] = build.environment
        if build.variables:
            body["variables"] = build.variables
        if dependencies is not None:
            body["dependencies"] = dependencies
        registered = self._step(
            "Autosana web build registration",
            lambda: self.client.post("/api/ci/upload-web-build", what="the web build registration", body=body),
        )
        return self._built(shown_url(build.url), registered), started_flows(registered)

    def _git_fields(self) -> dict[str, str]:
        return {"commit_sha": self.git.commit_sha, "branch_name": self.git.branch, "repo_full_name": self.git.repository}

    def _step(self, step: str, send: Callable[[], Any]) -> dict[str, Any]:
        """One step's answer as a JSON object; its failure names the step. Its warnings become warnings of the run."""
        try:
            answer = send()
        except TimeoutReached as exc:
            raise TimeoutReached(f"{step} failed: {exc}") from None
        except VendorError as exc:
            raise VendorError(f"{step} failed: {exc}") from None
        if not isinstance(answer, dict):
            raise VendorError(f"{step} answered {describe_body(answer)}, not a JSON object.")
        detail = answer.get("detail")
        if detail is not None and detail is not False:  # what the vendor's action fails on (jq -e '.detail'), whatever the HTTP status
            said = one_line(detail if isinstance(detail, str) else json.dumps(detail), limit=300)
            raise VendorError(f"{step} failed: Autosana's answer carries the error '{said}'.")
        self._warn(step, answer.get("warnings"))
        return answer

    def _warn(self, step: str, warnings: Any) -> None:
        """Each warning text becomes a warning of the run: a string is one, a list holds them; anything else is said once."""
        texts = [warnings] if isinstance(warnings, str) else warnings if isinstance(warnings, list) else []
        for text in texts:
            if isinstance(text, str) and text.strip():
                self.reporter.warning(f"Autosana: {text}", title="Autosana warning")
        odd = sum(1 for text in texts if not isinstance(text, str))
        if warnings is not None and not isinstance(warnings, str | list):
            self.reporter.warning(f"{step} answered with `warnings` as {type(warnings).__name__}, not text or a list of texts; ignored.")
        elif odd:
            self.reporter.warning(f"{step} answered with warnings this action cannot read ({odd} not text); they are ignored.")

    def _built(self, name: str, answer: dict[str, Any], *, size: int | None = None) -> BuildUnderTest:
        status = answer.get("status")
        if status is not None and str(status).lower() not in ACCEPTED:
            raise VendorError(f"Autosana did not accept the build {name}: it answered {describe_body(answer)}.")
        build_id = answer.get("app_build_id")
        return BuildUnderTest(name, str(build_id) if build_id else "", size, self.git.commit_sha, self.git.branch)
