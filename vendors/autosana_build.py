"""Autosana: put the build this change produced under test before the flows run, by uploading the file or registering
a web preview URL.

These endpoints are not on Autosana's API page; they come from the vendor's own CI tool (Autosana/autosana-ci):
1. POST /api/ci/start-upload {bundle_id, platform, filename, name?, environment? (not for chrome-extension)}
   -> {upload_url, file_path, warnings?}
2. PUT upload_url: the file's bytes, Content-Type application/octet-stream, no API key (a presigned storage URL on
   another host; it needs a Content-Length).
3. POST /api/ci/confirm-upload {bundle_id, platform, uploaded_file_path, name, commit_sha, branch_name, repo_full_name,
   environment?, variables?, enable_ios_keychain_access_group_remapping? (.ipa on ios only)} -> {status, app_build_id?,
   warnings?}; an .ipa can take up to 15 minutes (re-signing).
4. Web: POST /api/ci/upload-web-build {app_id, url, name?, environment?, commit_sha, branch_name, repo_full_name,
   variables?, dependencies?} -> {status, app_build_id?}.
Errors carry {"detail": ...}; answers may carry "warnings". An answer without the fields we need, or a `status` other
than success, stops the run with the answer quoted (a wrong guess fails loudly, never runs flows on an unknown build).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from suiterun.errors import InputError, TimeoutReached, VendorError
from suiterun.gitmeta import GitMetadata
from suiterun.http import VendorClient
from suiterun.inputs import Inputs, is_loopback, parse_bool, parse_workspace_path
from suiterun.results import BuildUnderTest
from suiterun.text import describe_body
from suiterun.upload import put_file

from .base import Reporter

# Which files each platform takes (from the vendor's CI tool): a zipped .app is an iOS simulator build.
EXTENSIONS = {"android": (".apk", ".aab"), "ios": (".ipa", ".zip"), "chrome-extension": (".zip",)}
# A confirm of an .ipa waits for Autosana to re-sign it (up to 15 minutes, per the vendor's CI tool): one request,
# bounded by `timeout` like everything else, with no retry (it creates the build).
CONFIRM_SECONDS = 15 * 60.0


@dataclass(frozen=True)
class BuildOptions:
    """What to put under test: a file to upload (`path`, mobile or Chrome extension) or a URL to register (web)."""

    path: Path | None = None  # absolute, checked to be a non-empty file inside the workspace
    url: str = ""
    name: str = ""
    environment: str = ""
    ios_keychain_remapping: bool | None = None
    allow_http: bool = False


def parse_build(inputs: Inputs, context_workspace: Path, *, platform: str, app_id: str) -> BuildOptions | None:
    """The build inputs, checked before any request; None when there is nothing to upload or register."""
    build_path, app_url = inputs.get("build-path"), inputs.get("app-url")
    remapping = inputs.get("ios-keychain-remapping")
    if build_path and app_url:
        raise InputError("Autosana takes input 'build-path' (a mobile build or Chrome extension) or 'app-url' (a web build), not both.")
    if remapping and not build_path.lower().endswith(".ipa"):
        raise InputError("Input 'ios-keychain-remapping' applies only to an .ipa uploaded with 'build-path' and platform ios.")
    allow_http = parse_bool("allow-http", inputs.get("allow-http") or "false")
    common = BuildOptions(name=inputs.get("app-name"), environment=inputs.get("environment"), allow_http=allow_http)
    if app_url:
        if not app_id:
            raise InputError("Input 'app-url' registers a web build: give the web app's 'app-id' with it (not bundle-id and platform).")
        parts = urlsplit(app_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError(f"Input 'app-url' must be an http(s) URL of the deployed web build, got '{app_url}'.")
        return replace(common, url=app_url)
    if not build_path:
        if common.name:
            raise InputError("Input 'app-name' names a build to upload ('build-path') or register ('app-url'); neither is given.")
        return None
    if app_id:
        raise InputError(
            "Input 'build-path' uploads a mobile build or Chrome extension: give 'bundle-id' and 'platform' with it; a web build is 'app-url'."
        )
    relative = parse_workspace_path("build-path", build_path, context_workspace)
    assert relative is not None  # build_path is not empty
    path = context_workspace.resolve() / relative
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
    if common.environment and platform == "chrome-extension":
        raise InputError("Input 'environment' does not apply to a Chrome extension upload (Autosana takes none for it).")
    return replace(common, path=path, ios_keychain_remapping=keychain)


@dataclass
class BuildSteps:
    """Uploads or registers one build, step by step; an error names the step and shows the vendor's answer."""

    client: VendorClient
    reporter: Reporter
    git: GitMetadata

    def upload(self, build: BuildOptions, *, bundle_id: str, platform: str, variables: dict[str, str] | None) -> BuildUnderTest:
        assert build.path is not None
        path = build.path
        name = build.name or f"{path.name} {self.git.commit_sha[:7]}".strip()
        start: dict[str, Any] = {"bundle_id": bundle_id, "platform": platform, "filename": path.name, "name": name}
        if build.environment:
            start["environment"] = build.environment
        slot = self._step(
            "Autosana upload step 1 of 3 (start the upload)",
            lambda: self.client.post("/api/ci/start-upload", what="the start of the upload", body=start),
        )
        upload_url, file_path = slot.get("upload_url"), slot.get("file_path")
        if not isinstance(upload_url, str) or not isinstance(file_path, str) or not upload_url.startswith(("https://", "http://")):
            raise VendorError(f"Autosana upload step 1 of 3 (start the upload) answered {describe_body(slot)}, without upload_url and file_path.")
        for _, value in parse_qsl(urlsplit(upload_url).query):
            self.reporter.mask(value)  # the presigned URL's signature is a credential of its own
        storage = urlsplit(upload_url)
        if storage.scheme == "http" and not (build.allow_http or is_loopback(storage.hostname or "")):
            raise VendorError(
                f"Autosana upload step 1 of 3 gave a plain http:// upload URL on {storage.hostname}: the build would cross the network "
                "unencrypted. Set allow-http: true only for a test server you trust."
            )
        label = "Autosana upload step 2 of 3 (send the file to storage)"
        put_file(path, upload_url, deadline=self.client.deadline, log=self.reporter.info, label=label, secrets=self.client.secrets)
        confirm: dict[str, Any] = {
            "bundle_id": bundle_id,
            "platform": platform,
            "uploaded_file_path": file_path,
            "name": name,
            **self._git_fields(),
        }
        if build.environment:
            confirm["environment"] = build.environment
        if variables:
            confirm["variables"] = variables
        if build.ios_keychain_remapping is not None:
            confirm["enable_ios_keychain_access_group_remapping"] = build.ios_keychain_remapping
        if path.suffix.lower() == ".ipa":
            self.reporter.info("Autosana upload step 3 of 3: Autosana re-signs an .ipa, which can take up to 15 minutes")
        confirmed = self._step(
            "Autosana upload step 3 of 3 (confirm the upload)",
            lambda: self.client.post("/api/ci/confirm-upload", what="the confirmation of the upload", body=confirm, seconds=CONFIRM_SECONDS),
        )
        return self._built(path.name, confirmed, size=path.stat().st_size)

    def register(self, build: BuildOptions, *, app_id: str, variables: dict[str, str] | None, dependencies: list[Any] | None) -> BuildUnderTest:
        body: dict[str, Any] = {"app_id": app_id, "url": build.url, **self._git_fields()}
        if build.name:
            body["name"] = build.name
        if build.environment:
            body["environment"] = build.environment
        if variables:
            body["variables"] = variables
        if dependencies is not None:
            body["dependencies"] = dependencies
        registered = self._step(
            "Autosana web build registration",
            lambda: self.client.post("/api/ci/upload-web-build", what="the web build registration", body=body),
        )
        return self._built(build.url, registered)

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
        for warning in answer.get("warnings") or []:
            self.reporter.warning(f"Autosana: {warning}", title="Autosana warning")
        return answer

    def _built(self, name: str, answer: dict[str, Any], *, size: int | None = None) -> BuildUnderTest:
        if str(answer.get("status", "success")).lower() != "success":
            raise VendorError(f"Autosana did not accept the build {name}: it answered {describe_body(answer)}.")
        build_id = answer.get("app_build_id")
        return BuildUnderTest(name, str(build_id) if build_id else "", size, self.git.commit_sha, self.git.branch)
