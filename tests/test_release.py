"""scripts/release.py: the file changes of a release, on real files, as the release workflow runs them."""

from __future__ import annotations

import subprocess
import sys
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
