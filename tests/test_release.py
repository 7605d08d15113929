"""scripts/release.py: the release's decisions and file changes, on the project's own files and on small made-up ones.

Versions here are made up unless read from suiterun.__version__: no test depends on the project's version, so bumping
it (`release.py prepare`) keeps `make test` green; ci.yml's version-bump job runs `make test` on a bumped clone."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

import suiterun
from tests.support import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import release  # scripts/ holds the module: the workflow runs it as `python3 scripts/release.py`

DAY = datetime.date(2026, 12, 1)
DIGEST = "sha256:" + "ab" * 32
IMAGE = f"ghcr.io/suiterun/ai-test-suites@{DIGEST}"
CHANGELOG = """# Changelog

## [Unreleased]

### Added
- A new input.

## [0.2.0] - 2026-11-30

### Added
- The thing.

## [0.1.0] - 2026-11-20

- Older.

[Unreleased]: https://github.com/acme/tests/compare/v0.2.0...HEAD
[0.2.0]: https://github.com/acme/tests/releases/tag/v0.2.0
[0.1.0]: https://github.com/acme/tests/releases/tag/v0.1.0
"""
INIT = '"""The package."""\n\n__version__ = "0.2.0"\n'


def project_files() -> dict[str, str]:
    return {path: (ROOT / path).read_text(encoding="utf-8") for path in ["suiterun/__init__.py", "CHANGELOG.md", *release.documentation_pages(ROOT)]}


# --- prepare: the version bump on main ---


def test_a_patch_release_of_the_project_bumps_the_version_and_its_changelog_and_install_lines() -> None:
    files = project_files()
    # One entry more, for the day this runs right after a release, when Unreleased is empty.
    files["CHANGELOG.md"] = files["CHANGELOG.md"].replace("## [Unreleased]\n", "## [Unreleased]\n\n- A change.\n", 1)
    major, minor, patch = release.parse_version(suiterun.__version__)
    version = f"{major}.{minor}.{patch + 1}"
    unreleased = release.release_notes(files["CHANGELOG.md"].replace("## [Unreleased]", "## [next]"), "next")
    assert unreleased.startswith("- A change.\n")
    changed = release.prepare(files, "patch", DAY)
    assert release.declared_version(changed["suiterun/__init__.py"]) == version
    assert release.check_release(version, changed["suiterun/__init__.py"], changed["CHANGELOG.md"], [f"v{suiterun.__version__}"]) == str(major)
    assert release.release_notes(changed["CHANGELOG.md"], version) == unreleased  # the entries, moved as they were
    assert f"## [Unreleased]\n\n## [{version}] - 2026-12-01\n\n" in changed["CHANGELOG.md"]
    assert f"[{version}]: https://github.com/suiterun/ai-test-suites/releases/tag/v{version}\n" in changed["CHANGELOG.md"]
    readme = changed["README.md"]
    assert f"suiterun=={version}" in readme and f"suiterun=={suiterun.__version__}" not in readme
    assert readme.replace(f"suiterun=={version}", f"suiterun=={suiterun.__version__}") == files["README.md"]


def test_prepare_moves_the_unreleased_entries_under_the_version_and_keeps_an_empty_unreleased_section() -> None:
    changed = release.prepare({"suiterun/__init__.py": INIT, "CHANGELOG.md": CHANGELOG, "docs/ci.md": "pip install suiterun==0.2.0\n"}, "minor", DAY)
    assert changed["suiterun/__init__.py"] == '"""The package."""\n\n__version__ = "0.3.0"\n'
    assert changed["docs/ci.md"] == "pip install suiterun==0.3.0\n"
    assert changed["CHANGELOG.md"] == CHANGELOG.replace(
        "## [Unreleased]\n\n### Added\n- A new input.\n", "## [Unreleased]\n\n## [0.3.0] - 2026-12-01\n\n### Added\n- A new input.\n"
    ).replace(
        "[Unreleased]: https://github.com/acme/tests/compare/v0.2.0...HEAD\n",
        "[Unreleased]: https://github.com/acme/tests/compare/v0.3.0...HEAD\n[0.3.0]: https://github.com/acme/tests/releases/tag/v0.3.0\n",
    )


@pytest.mark.parametrize(("wanted", "version"), [("patch", "0.2.1"), ("minor", "0.3.0"), ("major", "1.0.0"), ("0.2.7", "0.2.7")])
def test_prepare_takes_a_version_or_the_part_to_bump(wanted: str, version: str) -> None:
    changed = release.prepare({"suiterun/__init__.py": INIT, "CHANGELOG.md": CHANGELOG}, wanted, DAY)
    assert release.declared_version(changed["suiterun/__init__.py"]) == version


@pytest.mark.parametrize(
    ("wanted", "changelog", "message"),
    [
        ("0.2.0", CHANGELOG, "0.2.0 is not higher than the current version 0.2.0: versions only go up."),
        ("0.1.9", CHANGELOG, "0.1.9 is not higher than the current version 0.2.0"),
        ("v0.3.0", CHANGELOG, "'v0.3.0' is not a version X.Y.Z (e.g. 1.2.3)."),
        ("next", CHANGELOG, "'next' is not a version X.Y.Z"),
        ("patch", CHANGELOG.replace("### Added\n- A new input.\n", ""), "CHANGELOG.md's Unreleased section is empty: add the changes"),
        ("patch", CHANGELOG.replace("## [Unreleased]\n", ""), "CHANGELOG.md has no section '## [Unreleased]'."),
        ("patch", CHANGELOG.replace("[Unreleased]: ", "[Later]: "), "CHANGELOG.md has no link line '[Unreleased]: <repository>/compare/"),
    ],
)
def test_prepare_refuses_what_would_make_a_wrong_release(wanted: str, changelog: str, message: str) -> None:
    with pytest.raises(release.ReleaseError) as refused:
        release.prepare({"suiterun/__init__.py": INIT, "CHANGELOG.md": changelog}, wanted, DAY)
    assert str(refused.value).startswith(message)


def test_prepare_on_a_checkout_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "suiterun").mkdir()
    (tmp_path / "suiterun/__init__.py").write_text(INIT, encoding="utf-8")
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    (tmp_path / "README.md").write_text("pipx run suiterun run\npip install suiterun==0.2.0\n", encoding="utf-8")
    assert release.main(["--root", str(tmp_path), "prepare", "patch", "--date", "2026-12-24"]) == 0
    assert capsys.readouterr().out == "Prepared 0.2.1: review CHANGELOG.md, commit, and merge to main.\n"
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "pipx run suiterun run\npip install suiterun==0.2.1\n"
    assert "## [0.2.1] - 2026-12-24\n" in (tmp_path / "CHANGELOG.md").read_text(encoding="utf-8")


# --- check: the version asked for may be released ---


def test_check_gives_the_major_of_a_version_the_package_declares_and_the_changelog_describes() -> None:
    init = INIT.replace("0.2.0", "10.2.0")
    changelog = CHANGELOG.replace("## [0.2.0]", "## [10.2.0]")
    assert release.check_release("10.2.0", init, changelog, ["v0.1.0", "v0"]) == "10"


@pytest.mark.parametrize(
    ("version", "changelog", "tags", "message"),
    [
        ("0.3.0", CHANGELOG, [], "suiterun.__version__ is 0.2.0, not 0.3.0: run `python3 scripts/release.py prepare 0.3.0`, merge it"),
        ("0.2.0", CHANGELOG, ["v0.1.0", "v0.2.0"], "v0.2.0 is already released (a release tag never moves): prepare the next version."),
        ("0.2.0", CHANGELOG.replace("## [0.2.0] - 2026-11-30", "## [0.2.1] - 2026-11-30"), [], "CHANGELOG.md has no section '## [0.2.0]'."),
        ("0.2.0", CHANGELOG.replace("### Added\n- The thing.\n", ""), [], "The CHANGELOG.md section of 0.2.0 is empty."),
        ("0.2.0", CHANGELOG.replace("## [Unreleased]\n", ""), [], "CHANGELOG.md has no '## [Unreleased]' section"),
        ("v0.2.0", CHANGELOG, [], "'v0.2.0' is not a version X.Y.Z"),
    ],
)
def test_check_refuses(version: str, changelog: str, tags: list[str], message: str) -> None:
    with pytest.raises(release.ReleaseError) as refused:
        release.check_release(version, INIT, changelog, tags)
    assert str(refused.value).startswith(message)


def test_the_release_notes_are_the_versions_changelog_section(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert release.release_notes(CHANGELOG, "0.2.0") == "### Added\n- The thing.\n"
    assert release.release_notes(CHANGELOG, "0.1.0") == "- Older.\n"  # the link references at the end are not part of it
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    assert release.main(["--root", str(tmp_path), "notes", "0.2.0", "--image", IMAGE]) == 0
    assert capsys.readouterr().out == f"### Added\n- The thing.\n\n**Image:** `{IMAGE}`\n"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args], check=True, capture_output=True)


@pytest.mark.io  # a local fake server
def test_check_and_tag_moves_read_the_repositorys_tags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "suiterun").mkdir()
    (tmp_path / "suiterun/__init__.py").write_text(INIT, encoding="utf-8")
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    git(tmp_path, "init", "--quiet")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "--quiet", "--message", "first")
    for tag in ("v0.1.0", "v0.1.1", "v0"):
        git(tmp_path, "tag", tag)
    assert release.main(["--root", str(tmp_path), "check", "0.2.0"]) == 0
    assert release.main(["--root", str(tmp_path), "tag-moves", "0.2.0"]) == 0
    assert capsys.readouterr().out == "version=0.2.0\nmajor=0\nmajor=true\nlatest=true\n"
    git(tmp_path, "tag", "v0.2.0")
    assert release.main(["--root", str(tmp_path), "check", "0.2.0"]) == 1
    assert capsys.readouterr().err == "release.py: v0.2.0 is already released (a release tag never moves): prepare the next version.\n"


# --- floating tags move only forward ---


@dataclass(frozen=True)
class Moves:
    version: str
    tags: tuple[str, ...]
    major: bool
    latest: bool


@pytest.mark.parametrize(
    "case",
    [
        Moves("1.0.0", (), major=True, latest=True),  # the first release
        Moves("1.2.0", ("v1.0.0", "v1.1.0", "v1", "nightly"), major=True, latest=True),
        Moves("1.1.1", ("v1.1.0", "v1.2.0", "v1"), major=False, latest=False),  # a backport: v1 stays on 1.2.0
        Moves("1.3.0", ("v1.2.0", "v2.0.0", "v1", "v2"), major=True, latest=False),  # v1 moves, :latest stays on 2.0.0
        Moves("2.0.1", ("v1.9.0", "v2.0.0", "v2.1.0"), major=False, latest=False),
        Moves("3.0.0", ("v2.5.0", "v10.0.0-rc.1"), major=True, latest=True),  # only vX.Y.Z tags are releases
        Moves("1.2.0", ("v1.2.0", "v1.1.0"), major=True, latest=True),  # this release's own tag (a re-run) is no obstacle
    ],
    ids=lambda case: f"{case.version}-after-{'+'.join(case.tags) or 'nothing'}",
)
def test_floating_tags_move_only_forward(case: Moves) -> None:
    assert release.tag_moves(case.version, case.tags) == release.TagMoves(major=case.major, latest=case.latest)


# --- the release commit pulls the image by digest ---


def test_pin_image_points_the_action_at_the_pushed_image_by_digest_and_changes_nothing_else() -> None:
    original = (ROOT / "action.yml").read_text(encoding="utf-8")
    pinned = release.pin_image(original, "1.2.3", IMAGE)
    assert yaml.safe_load(pinned)["runs"] == {"using": "docker", "image": f"docker://{IMAGE}"}
    assert f"  image: docker://{IMAGE} # v1.2.3\n" in pinned
    assert pinned.replace(f"docker://{IMAGE} # v1.2.3", "Dockerfile") == original


def test_pin_image_on_a_checkout_rewrites_action_yml(tmp_path: Path) -> None:
    shutil.copy2(ROOT / "action.yml", tmp_path / "action.yml")
    assert release.main(["--root", str(tmp_path), "pin-image", "1.2.3", IMAGE]) == 0
    assert yaml.safe_load((tmp_path / "action.yml").read_text(encoding="utf-8"))["runs"]["image"] == f"docker://{IMAGE}"


@pytest.mark.parametrize(
    ("version", "image", "message"),
    [
        ("1.2", IMAGE, "'1.2' is not a version X.Y.Z"),
        ("1.2.3", "ghcr.io/suiterun/ai-test-suites:1.2.3", "is not an image by digest, ghcr.io/<owner>/<name>@sha256:<64 hex digits>"),
        ("1.2.3", IMAGE.replace("suiterun", "Suiterun"), "is not an image by digest"),
        ("1.2.3", IMAGE.replace("ghcr.io", "docker.io"), "is not an image by digest"),
        ("1.2.3", IMAGE[:-1], "is not an image by digest"),
    ],
)
def test_pin_image_refuses_a_bad_version_or_an_image_not_by_digest(version: str, image: str, message: str) -> None:
    with pytest.raises(release.ReleaseError, match=message.replace("(", r"\(")):
        release.pin_image((ROOT / "action.yml").read_text(encoding="utf-8"), version, image)


def test_an_action_already_pinned_is_not_pinned_twice() -> None:
    with pytest.raises(release.ReleaseError, match="exactly one line 'image: Dockerfile'"):
        release.pin_image(f"runs:\n  using: docker\n  image: docker://{IMAGE} # v0.1.0\n", "0.2.0", IMAGE)


# --- the base image: a tag in the Dockerfile, a digest where the release builds ---


def test_the_release_builds_on_the_dockerfiles_base_image_pinned_by_digest(capsys: pytest.CaptureFixture[str]) -> None:
    assert release.main(["base-image"]) == 0
    context = capsys.readouterr().out.strip()
    name, pinned = context.split("=docker-image://")
    assert f"FROM {name}\n" in (ROOT / "Dockerfile").read_text(encoding="utf-8")  # `docker build .` pulls the tag
    assert pinned.startswith(f"{name}@sha256:") and len(pinned) == len(name) + len("@sha256:") + 64


@pytest.mark.parametrize(
    ("pinned", "message"),
    [
        ("FROM python:3.14-slim@sha256:" + "0" * 64, "must pin the Dockerfile's base image by digest: FROM python:3.13-slim@sha256:<digest>"),
        ("FROM python:3.13-slim", "not python:3.13-slim."),
        ("FROM python@sha256:" + "0" * 64, "must pin the Dockerfile's base image"),
        ("FROM a:1@sha256:" + "0" * 64 + "\nFROM b:1@sha256:" + "0" * 64, "must each have exactly one FROM line"),
    ],
)
def test_a_base_image_pin_that_is_not_the_dockerfiles_stops_the_release(pinned: str, message: str) -> None:
    with pytest.raises(release.ReleaseError, match=message.replace("(", r"\(")):
        release.base_image_context("# base\nFROM python:3.13-slim\nRUN true\n", pinned)


# --- a commit on main whose CI passed ---


def run(sha: str, number: int, status: str = "completed", conclusion: str | None = "success") -> dict[str, Any]:
    return {"head_sha": sha, "run_number": number, "status": status, "conclusion": conclusion, "html_url": f"https://ci/{number}"}


SHA = "0123456789abcdef0123456789abcdef01234567"


def test_ci_passed_is_the_latest_run_of_the_commit() -> None:
    assert release.ci_verdict([run(SHA, 7), run(SHA, 6, conclusion="failure"), run("f" * 40, 8, conclusion="failure")], SHA) == "https://ci/7"


@pytest.mark.parametrize(
    ("runs", "message"),
    [
        ([], f"ci.yml has no run for {SHA} pushed to main: release only a commit on main that CI has tested."),
        ([run("f" * 40, 3)], f"ci.yml has no run for {SHA}"),
        ([run(SHA, 3), run(SHA, 4, status="in_progress", conclusion=None)], f"CI is still running for {SHA} (https://ci/4): start the release again"),
        ([run(SHA, 5, conclusion="failure"), run(SHA, 4)], f"CI ended 'failure' for {SHA} (https://ci/5): release only a commit whose CI passed."),
        ([run(SHA, 5, conclusion="cancelled")], "CI ended 'cancelled'"),
    ],
)
def test_a_commit_without_green_ci_is_not_released(runs: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(release.ReleaseError) as refused:
        release.ci_verdict(runs, SHA)
    assert str(refused.value).startswith(message)


@dataclass
class Fake:
    """What a local stand-in for GitHub's API or ghcr.io answers, and what it was asked."""

    answers: dict[str, tuple[int, bytes, str]]  # "METHOD path" -> status, body, content type
    seen: list[tuple[str, str, str, bytes]] = field(default_factory=list)  # method, path, Authorization, body


@contextmanager
def serving(fake: Fake) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            fake.seen.append((self.command, self.path, self.headers.get("Authorization", "-"), body))
            status, reply, kind = fake.answers.get(f"{self.command} {self.path}", (404, b'{"errors": [{"code": "NOT_FOUND"}]}', "application/json"))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_PUT = answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


RUNS_PATH = f"/repos/acme/tests/actions/workflows/ci.yml/runs?head_sha={SHA}&branch=main&event=push&per_page=100"


@pytest.mark.io  # a local fake server
def test_ci_passed_asks_githubs_api_for_the_commits_ci_runs_on_main(capsys: pytest.CaptureFixture[str]) -> None:
    fake = Fake({f"GET {RUNS_PATH}": (200, json.dumps({"workflow_runs": [run(SHA, 9)]}).encode(), "application/json")})
    with serving(fake) as url:
        code = release.main(["ci-passed", SHA], {"GITHUB_API_URL": url, "GITHUB_REPOSITORY": "acme/tests", "GH_TOKEN": "ghs_token"})
    assert (code, capsys.readouterr().out) == (0, f"CI passed for {SHA}: https://ci/9\n")
    assert [(method, path, auth) for method, path, auth, _ in fake.seen] == [("GET", RUNS_PATH, "Bearer ghs_token")]


@pytest.mark.io  # a local fake server
def test_ci_passed_stops_when_the_api_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    with serving(Fake({f"GET {RUNS_PATH}": (403, b"{}", "application/json")})) as url:
        code = release.main(["ci-passed", SHA], {"GITHUB_API_URL": url, "GITHUB_REPOSITORY": "acme/tests", "GH_TOKEN": "ghs_token"})
    assert code == 1
    assert capsys.readouterr().err == f"release.py: Could not read ci.yml's runs from {url} (HTTP 403); the job needs `actions: read`.\n"
    assert release.main(["ci-passed", SHA], {"GITHUB_REPOSITORY": "acme/tests"}) == 1
    assert "reads GITHUB_API_URL, GH_TOKEN from the environment" in capsys.readouterr().err


# --- the pushed image: public, and tagged on exactly the verified digest ---

TOKEN_PATH = "/token?scope=repository%3Asuiterun%2Fai-test-suites%3Apull&service=ghcr.io"
PUSH_TOKEN_PATH = "/token?scope=repository%3Asuiterun%2Fai-test-suites%3Apull%2Cpush&service=ghcr.io"
MANIFEST_PATH = f"/v2/suiterun/ai-test-suites/manifests/{DIGEST}"
INDEX = b'{"schemaVersion": 2, "manifests": []}'
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
PUSHED = f"ghcr.io/suiterun/ai-test-suites@sha256:{hashlib.sha256(INDEX).hexdigest()}"
PUSHED_PATH = f"/v2/suiterun/ai-test-suites/manifests/sha256:{hashlib.sha256(INDEX).hexdigest()}"


@pytest.mark.io  # a local fake server
def test_a_public_image_passes_the_anonymous_pull_check(capsys: pytest.CaptureFixture[str]) -> None:
    fake = Fake({f"GET {TOKEN_PATH}": (200, b'{"token": "anonymous"}', "application/json"), f"GET {MANIFEST_PATH}": (200, INDEX, INDEX_TYPE)})
    with serving(fake) as url:
        code = release.main(["public-image", IMAGE, "--registry", url])
    assert (code, capsys.readouterr()) == (0, ("", ""))
    assert [(method, path, auth) for method, path, auth, _ in fake.seen] == [
        ("GET", TOKEN_PATH, "-"),  # no credentials are sent
        ("GET", MANIFEST_PATH, "Bearer anonymous"),
    ]


@pytest.mark.parametrize(
    ("token_status", "manifest_status", "reason"),
    [
        (200, 401, "HTTP 401"),  # a private package: the manifest needs credentials
        (403, 200, "HTTP 403"),  # no anonymous token at all
        (200, 404, "HTTP 404"),  # that digest was never pushed
    ],
)
@pytest.mark.io  # a local fake server
def test_an_image_users_cannot_pull_stops_the_release(
    token_status: int, manifest_status: int, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    token = (token_status, b'{"token": "anonymous"}', "application/json")
    fake = Fake({f"GET {TOKEN_PATH}": token, f"GET {MANIFEST_PATH}": (manifest_status, INDEX, INDEX_TYPE)})
    with serving(fake) as url:
        assert release.main(["public-image", IMAGE, "--registry", url]) == 1
    assert capsys.readouterr().err == (
        f"release.py: {IMAGE} cannot be pulled without logging in ({reason}). Make the package public (its Package settings"
        " on GitHub, once), then re-run the failed jobs: no tag has moved yet.\n"
    )


@pytest.mark.io  # a local fake server
def test_an_unreachable_registry_stops_the_release() -> None:
    with socket.socket() as unused:  # a port that was free a moment ago: nothing listens there
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(release.ReleaseError, match=r"cannot be pulled without logging in \(URLError: .*no tag has moved yet"):
        release.check_public_image(IMAGE, f"http://127.0.0.1:{port}")


@pytest.mark.io  # a local fake server
def test_tag_image_stores_the_verified_manifest_byte_for_byte_under_each_tag(capsys: pytest.CaptureFixture[str]) -> None:
    answers = {f"GET {PUSH_TOKEN_PATH}": (200, b'{"token": "pusher"}', "application/json"), f"GET {PUSHED_PATH}": (200, INDEX, INDEX_TYPE)}
    answers |= {f"PUT /v2/suiterun/ai-test-suites/manifests/{tag}": (201, b"", "text/plain") for tag in ("1.2.3", "1", "latest")}
    fake = Fake(answers)
    with serving(fake) as url:
        code = release.main(["tag-image", PUSHED, "1.2.3", "1", "latest", "--registry", url], {"GITHUB_ACTOR": "bot", "GH_TOKEN": "ghs_token"})
    assert (code, capsys.readouterr().out) == (0, f"Tagged {PUSHED} as 1.2.3, 1, latest.\n")
    login = "Basic " + base64.b64encode(b"bot:ghs_token").decode()
    assert [(method, path, auth) for method, path, auth, _ in fake.seen] == [
        ("GET", PUSH_TOKEN_PATH, login),
        ("GET", PUSHED_PATH, "Bearer pusher"),
        *[("PUT", f"/v2/suiterun/ai-test-suites/manifests/{tag}", "Bearer pusher") for tag in ("1.2.3", "1", "latest")],
    ]
    assert {body for method, _, _, body in fake.seen if method == "PUT"} == {INDEX}


@pytest.mark.io  # a local fake server
def test_tag_image_sets_no_tag_when_the_registry_answers_another_manifest() -> None:
    fake = Fake({f"GET {PUSH_TOKEN_PATH}": (200, b'{"token": "pusher"}', "application/json"), f"GET {PUSHED_PATH}": (200, INDEX + b" ", INDEX_TYPE)})
    with serving(fake) as url, pytest.raises(release.ReleaseError, match="a manifest of another digest; no tag was set"):
        release.tag_image(PUSHED, ["1.2.3"], ("bot", "ghs_token"), url)
    assert [method for method, *_ in fake.seen] == ["GET", "GET"]


@pytest.mark.io  # a local fake server
def test_tag_image_without_push_rights_says_what_the_job_needs() -> None:
    refusal = r"Could not tag .* as 1\.2\.3 \(HTTP 404\); the job needs `packages: write`"
    with serving(Fake({})) as url, pytest.raises(release.ReleaseError, match=refusal):
        release.tag_image(PUSHED, ["1.2.3"], ("bot", "ghs_token"), url)


# --- Marketplace and install lines ---


def test_the_action_description_fits_the_marketplace() -> None:
    description = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["description"]
    assert 0 < len(description) <= 125, f"the Marketplace shows at most 125 characters; this description has {len(description)}"


def test_every_pinned_install_line_names_the_packages_version() -> None:
    pins = {path: set(release.INSTALL_PIN.findall(text)) for path, text in project_files().items() if path.endswith(".md") and path != "CHANGELOG.md"}
    assert pins["README.md"], "the README shows `pip install suiterun==X.Y.Z`"
    assert set().union(*pins.values()) == {f"suiterun=={suiterun.__version__}"}, pins
