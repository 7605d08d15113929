"""scripts/release.py: the file changes of a release, on real files, as the release workflow runs them."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.support import ROOT

SCRIPT = ROOT / "scripts/release.py"
CHANGELOG = """# Changelog

## [Unreleased]

### Added
- Not released yet.

## [1.2.0] - 2026-12-01

### Added
- The thing.

## [1.1.0] - 2026-11-30

- Older.

[Unreleased]: https://github.com/suiterun/ai-test-suites/compare/v1.2.0...HEAD
[1.2.0]: https://github.com/suiterun/ai-test-suites/releases/tag/v1.2.0
"""


def release(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(("tag", "printed"), [("v1.2.3", "version=1.2.3\nmajor=1\n"), ("v10.0.0", "version=10.0.0\nmajor=10\n")])
def test_a_release_tag_gives_the_version_and_its_major(tag: str, printed: str, tmp_path: Path) -> None:
    init = tmp_path / "__init__.py"
    init.write_text(f'"""The package."""\n\n__version__ = "{tag[1:]}"\n', encoding="utf-8")
    done = release("version", tag, "--package-init", str(init))
    assert (done.returncode, done.stdout) == (0, printed)


def test_the_tag_must_match_the_packages_version() -> None:
    done = release("version", "v9.9.9")  # the project's own suiterun/__init__.py says otherwise
    assert done.returncode == 1 and "The tag 'v9.9.9' does not match suiterun.__version__ (1.0.0); set it to 9.9.9 on main" in done.stderr
    assert release("version", "v1.0.0").returncode == 0


@pytest.mark.parametrize("tag", ["1.2.3", "v1.2", "v1.2.3-rc.1", "v01.2.3", "vX.Y.Z", "main"])
def test_anything_else_is_not_a_release(tag: str) -> None:
    done = release("version", tag)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"release.py: The tag '{tag}' is not a release tag: releases are tagged vX.Y.Z, e.g. v1.2.3.\n"


def test_the_release_notes_are_the_versions_changelog_section(tmp_path: Path) -> None:
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    done = release("notes", "1.2.0", "--changelog", str(tmp_path / "CHANGELOG.md"))
    assert (done.returncode, done.stdout) == (0, "### Added\n- The thing.\n")
    last = release("notes", "1.1.0", "--changelog", str(tmp_path / "CHANGELOG.md"))
    assert last.stdout == "- Older.\n"  # the link references at the end are not part of it


def test_a_version_the_changelog_does_not_describe_stops_the_release(tmp_path: Path) -> None:
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    done = release("notes", "1.3.0", "--changelog", str(tmp_path / "CHANGELOG.md"))
    assert done.returncode == 1 and "CHANGELOG.md has no section '## [1.3.0]'" in done.stderr


def test_the_projects_changelog_describes_1_0_0() -> None:
    assert release("notes", "1.0.0").returncode == 0


def test_pin_image_points_the_action_at_the_prebuilt_image_and_changes_nothing_else(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    original = (ROOT / "action.yml").read_text(encoding="utf-8")
    action.write_text(original, encoding="utf-8")
    done = release("pin-image", "1.2.3", "ghcr.io/suiterun/ai-test-suites", "--action", str(action))
    assert done.returncode == 0, done.stderr
    pinned = action.read_text(encoding="utf-8")
    assert yaml.safe_load(pinned)["runs"] == {"using": "docker", "image": "docker://ghcr.io/suiterun/ai-test-suites:1.2.3"}
    assert pinned.replace("docker://ghcr.io/suiterun/ai-test-suites:1.2.3", "Dockerfile") == original


@pytest.mark.parametrize(
    ("version", "image", "message"),
    [
        ("1.2", "ghcr.io/suiterun/ai-test-suites", "'1.2' is not a version X.Y.Z."),
        ("1.2.3", "ghcr.io/Suiterun/AI", "is not an image name ghcr.io/<owner>/<name> in lower case"),
        ("1.2.3", "docker.io/x/y", "is not an image name"),
    ],
)
def test_pin_image_refuses_a_bad_version_or_image(version: str, image: str, message: str, tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    action.write_text((ROOT / "action.yml").read_text(encoding="utf-8"), encoding="utf-8")
    done = release("pin-image", version, image, "--action", str(action))
    assert done.returncode == 1 and message in done.stderr


def test_an_action_already_pinned_is_not_pinned_twice(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    action.write_text("runs:\n  using: docker\n  image: docker://ghcr.io/a/b:1.0.0\n", encoding="utf-8")
    done = release("pin-image", "1.2.3", "ghcr.io/a/b", "--action", str(action))
    assert done.returncode == 1 and "exactly one line 'image: Dockerfile'" in done.stderr
    assert action.read_text(encoding="utf-8").endswith("b:1.0.0\n")


@contextmanager
def registry(image: str, *, token_status: int = 200, manifest_status: int = 200) -> Iterator[tuple[str, list[str]]]:
    """A local stand-in for ghcr.io's anonymous pull: GET /token, then GET /v2/<name>/manifests/<tag> with that token."""
    name, tag = image.removeprefix("ghcr.io/").split(":")
    seen: list[str] = []

    class Registry(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"{self.path} {self.headers.get('Authorization', '-')}")
            if self.path == f"/token?scope=repository%3A{name.replace('/', '%2F')}%3Apull&service=ghcr.io":
                status, body = token_status, b'{"token": "anonymous"}'
            elif self.path == f"/v2/{name}/manifests/{tag}" and self.headers.get("Authorization") == "Bearer anonymous":
                status, body = manifest_status, b"{}"
            else:
                status, body = 404, b'{"errors": [{"code": "NOT_FOUND"}]}'
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_public_image_passes_the_anonymous_pull_check() -> None:
    with registry("ghcr.io/suiterun/ai-test-suites:1.2.3") as (url, seen):
        done = release("public-image", "1.2.3", "ghcr.io/suiterun/ai-test-suites", "--registry", url)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert seen == [
        "/token?scope=repository%3Asuiterun%2Fai-test-suites%3Apull&service=ghcr.io -",  # no credentials are sent
        "/v2/suiterun/ai-test-suites/manifests/1.2.3 Bearer anonymous",
    ]


@pytest.mark.parametrize(
    ("token_status", "manifest_status", "version", "reason"),
    [
        (200, 401, "1.2.3", "HTTP 401"),  # a private package: the manifest needs credentials
        (403, 200, "1.2.3", "HTTP 403"),  # no anonymous token at all
        (200, 200, "1.2.4", "HTTP 404"),  # that version was never pushed
    ],
)
def test_an_image_users_cannot_pull_stops_the_release(token_status: int, manifest_status: int, version: str, reason: str) -> None:
    with registry("ghcr.io/suiterun/ai-test-suites:1.2.3", token_status=token_status, manifest_status=manifest_status) as (url, _):
        done = release("public-image", version, "ghcr.io/suiterun/ai-test-suites", "--registry", url)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        f"release.py: ghcr.io/suiterun/ai-test-suites:{version} cannot be pulled without logging in ({reason}). Make the package public"
        " (its Package settings on GitHub, once), then re-run the failed jobs: no tag has moved yet.\n"
    )


def test_an_unreachable_registry_stops_the_release() -> None:
    with socket.socket() as unused:  # a port that was free a moment ago: nothing listens there
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    done = release("public-image", "1.2.3", "ghcr.io/suiterun/ai-test-suites", "--registry", f"http://127.0.0.1:{port}")
    assert done.returncode == 1 and "cannot be pulled without logging in (URLError: " in done.stderr and "no tag has moved yet" in done.stderr


def test_public_image_refuses_a_bad_version_or_image_before_asking_the_registry() -> None:
    assert "'1.2' is not a version X.Y.Z." in release("public-image", "1.2", "ghcr.io/a/b", "--registry", "http://127.0.0.1:9").stderr
    assert "is not an image name" in release("public-image", "1.2.3", "ghcr.io/A/b", "--registry", "http://127.0.0.1:9").stderr
