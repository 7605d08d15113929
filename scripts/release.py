"""The release's decisions and file changes, for maintainers and .github/workflows/release.yml (stdlib only; CONTRIBUTING.md: Releasing).

  release.py prepare X.Y.Z|major|minor|patch    on a branch for main: set suiterun.__version__, turn CHANGELOG.md's
                                                Unreleased entries into the version's section, and point every
                                                `suiterun==` install line of README.md and docs/ at the version
  release.py check X.Y.Z                        the version asked for is the package's, the changelog describes it and
                                                it was never released (reads `git tag`); prints version= and major=
  release.py ci-passed SHA                      ci.yml's latest run for SHA, pushed to main, succeeded (GitHub's API)
  release.py base-image                         the build context that pins the Dockerfile's base image by digest
  release.py public-image IMAGE@DIGEST          the pushed image can be pulled without logging in, as users pull it
  release.py tag-image IMAGE@DIGEST TAG...     put the tags on exactly that digest (GITHUB_ACTOR and GH_TOKEN log in)
  release.py pin-image X.Y.Z IMAGE@DIGEST       point action.yml at the pushed image by digest (the release commit)
  release.py tag-moves X.Y.Z                    whether vX and the :X and :latest image tags move (never backwards)
  release.py notes X.Y.Z [--image IMAGE@DIGEST] print the version's CHANGELOG.md section (the release notes)

Each refuses, with one line on stderr and exit code 1, what would make a wrong release.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
RELEASE_TAG = re.compile(rf"v{VERSION.pattern}")
DECLARED = re.compile(r'^__version__ = "([^"]*)"', re.M)
PUSHED_IMAGE = re.compile(r"(?P<name>ghcr\.io/[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*)@(?P<digest>sha256:[0-9a-f]{64})")
BUILD_FROM_SOURCE = re.compile(r"^(?P<indent>[ \t]+)image: Dockerfile[ \t]*$", re.M)
FROM = re.compile(r"^FROM[ \t]+(\S+)[ \t]*$", re.M)
PINNED_BASE = re.compile(r"(?P<image>[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+)@sha256:[0-9a-f]{64}")
INSTALL_PIN = re.compile(r"\bsuiterun==[0-9][0-9A-Za-z.+-]*")
UNRELEASED = re.compile(r"^## \[Unreleased\][ \t]*\n", re.M)
UNRELEASED_LINK = re.compile(r"^\[Unreleased\]: (?P<repository>\S+)/compare/v\S+\.\.\.HEAD[ \t]*$", re.M)
# What buildx pushes for a multi-platform image with attestations (an OCI index), and the older equivalents.
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


class ReleaseError(Exception):
    """What makes this release wrong, in one line."""


def parse_version(text: str) -> tuple[int, int, int]:
    match = VERSION.fullmatch(text)
    if not match:
        raise ReleaseError(f"'{text}' is not a version X.Y.Z (e.g. 1.2.3).")
    return int(match[1]), int(match[2]), int(match[3])


def declared_version(package_init: str) -> str:
    """The `__version__` of suiterun/__init__.py: the one place the version is written."""
    declared = DECLARED.search(package_init)
    if not declared:
        raise ReleaseError('suiterun/__init__.py has no line __version__ = "X.Y.Z".')
    return declared[1]


def next_version(current: str, wanted: str) -> str:
    """`wanted` as X.Y.Z, or the next major, minor or patch version after `current`; always higher than `current`."""
    major, minor, patch = parse_version(current)
    bumped = {"major": f"{major + 1}.0.0", "minor": f"{major}.{minor + 1}.0", "patch": f"{major}.{minor}.{patch + 1}"}
    version = bumped.get(wanted, wanted)
    if parse_version(version) <= (major, minor, patch):
        raise ReleaseError(f"{version} is not higher than the current version {current}: versions only go up.")
    return version


def changelog_section(changelog: str, heading: str) -> tuple[int, int, int]:
    """Where the `## [heading]` section starts, and where its body starts and ends."""
    found = re.search(rf"^## \[{re.escape(heading)}\][^\n]*\n", changelog, re.M)
    if not found:
        raise ReleaseError(f"CHANGELOG.md has no section '## [{heading}]'.")
    following = re.search(r"^## \[|^\[[^\]]+\]: ", changelog[found.end() :], re.M)
    return found.start(), found.end(), found.end() + following.start() if following else len(changelog)


def release_changelog(changelog: str, version: str, date: datetime.date) -> str:
    """The Unreleased entries become the section of `version`, under a new empty Unreleased section; the links follow."""
    heading, start, end = changelog_section(changelog, "Unreleased")
    entries = changelog[start:end].strip()
    if not entries:
        raise ReleaseError("CHANGELOG.md's Unreleased section is empty: add the changes of this release there first.")
    rest = changelog[end:]
    link = UNRELEASED_LINK.search(rest)
    if not link:
        raise ReleaseError("CHANGELOG.md has no link line '[Unreleased]: <repository>/compare/vX.Y.Z...HEAD'.")
    links = f"[Unreleased]: {link['repository']}/compare/v{version}...HEAD\n[{version}]: {link['repository']}/releases/tag/v{version}"
    sections = f"## [Unreleased]\n\n## [{version}] - {date.isoformat()}\n\n{entries}\n\n"
    return changelog[:heading] + sections + rest[: link.start()] + links + rest[link.end() :]


def prepare(files: Mapping[str, str], wanted: str, date: datetime.date) -> dict[str, str]:
    """The release's file changes on main: `files` (path -> text) to their new texts. Paths: suiterun/__init__.py,
    CHANGELOG.md, and the documentation pages whose `suiterun==` install lines name the version."""
    current = declared_version(files["suiterun/__init__.py"])
    version = next_version(current, wanted)
    changed = {
        "suiterun/__init__.py": DECLARED.sub(f'__version__ = "{version}"', files["suiterun/__init__.py"], count=1),
        "CHANGELOG.md": release_changelog(files["CHANGELOG.md"], version, date),
    }
    for path, text in files.items():
        if path.endswith(".md") and path != "CHANGELOG.md":
            changed[path] = INSTALL_PIN.sub(f"suiterun=={version}", text)
    return changed


def release_notes(changelog: str, version: str) -> str:
    """The body of the `## [X.Y.Z]` section, without its heading."""
    _, start, end = changelog_section(changelog, version)
    body = changelog[start:end].strip()
    if not body:
        raise ReleaseError(f"The CHANGELOG.md section of {version} is empty.")
    return body + "\n"


def check_release(version: str, package_init: str, changelog: str, tags: Sequence[str]) -> str:
    """Refuse a release of `version` unless the package declares it, the changelog describes it and it is new; its major."""
    major = parse_version(version)[0]
    declared = declared_version(package_init)
    if declared != version:
        raise ReleaseError(
            f"suiterun.__version__ is {declared}, not {version}: run `python3 scripts/release.py prepare {version}`, merge it, then release."
        )
    if not UNRELEASED.search(changelog):
        raise ReleaseError("CHANGELOG.md has no '## [Unreleased]' section to collect the next changes.")
    try:
        release_notes(changelog, version)
    except ReleaseError as exc:
        raise ReleaseError(f"{exc} Run `python3 scripts/release.py prepare {version}` on main first.") from exc
    if f"v{version}" in tags:
        raise ReleaseError(f"v{version} is already released (a release tag never moves): prepare the next version.")
    return str(major)


@dataclass(frozen=True)
class TagMoves:
    """Which floating tags a release moves: `vX` with `:X` (major), and `:latest`."""

    major: bool
    latest: bool


def tag_moves(version: str, tags: Sequence[str]) -> TagMoves:
    """Floating tags only move forward: vX and :X to the highest X.y.z released, :latest to the highest of all.

    A backport (1.1.1 after 1.2.0) gets its own tags, and vX stays where it is."""
    new = parse_version(version)
    released = [parse_version(tag[1:]) for tag in tags if RELEASE_TAG.fullmatch(tag) and tag != f"v{version}"]
    return TagMoves(
        major=all(new > old for old in released if old[0] == new[0]),
        latest=all(new > old for old in released),
    )


def pin_image(action: str, version: str, pushed: str) -> str:
    """action.yml with `image: Dockerfile` replaced by `docker://IMAGE@sha256:...  # vX.Y.Z`; nothing else changes."""
    parse_version(version)
    if not PUSHED_IMAGE.fullmatch(pushed):
        raise ReleaseError(f"'{pushed}' is not an image by digest, ghcr.io/<owner>/<name>@sha256:<64 hex digits>, in lower case.")
    found = BUILD_FROM_SOURCE.findall(action)
    if len(found) != 1:
        raise ReleaseError(f"action.yml must have exactly one line 'image: Dockerfile' (main builds from source); it has {len(found)}.")
    return BUILD_FROM_SOURCE.sub(lambda match: f"{match['indent']}image: docker://{pushed} # v{version}", action)


def base_image_context(dockerfile: str, pinned: str) -> str:
    """`NAME=docker-image://NAME@sha256:...`: the build context that makes the Dockerfile's `FROM NAME` the image
    base.Dockerfile pins by digest, so the release builds on exactly that image while `docker build .` keeps the tag."""
    bases, pins = FROM.findall(dockerfile), FROM.findall(pinned)
    if len(bases) != 1 or len(pins) != 1:
        raise ReleaseError("Dockerfile and base.Dockerfile must each have exactly one FROM line.")
    pin = PINNED_BASE.fullmatch(pins[0])
    if not pin or pin["image"] != bases[0]:
        raise ReleaseError(f"base.Dockerfile must pin the Dockerfile's base image by digest: FROM {bases[0]}@sha256:<digest>, not {pins[0]}.")
    return f"{bases[0]}=docker-image://{pins[0]}"


def ci_verdict(runs: Sequence[Mapping[str, Any]], sha: str) -> str:
    """The URL of ci.yml's latest run for `sha` when it succeeded; otherwise why the release must wait or stop."""
    mine = [run for run in runs if run.get("head_sha") == sha]
    if not mine:
        raise ReleaseError(f"ci.yml has no run for {sha} pushed to main: release only a commit on main that CI has tested.")
    latest = max(mine, key=lambda run: int(run.get("run_number", 0)))
    url = latest.get("html_url", "")
    if latest.get("status") != "completed":
        raise ReleaseError(f"CI is still running for {sha} ({url}): start the release again when it has passed.")
    if latest.get("conclusion") != "success":
        raise ReleaseError(f"CI ended '{latest.get('conclusion')}' for {sha} ({url}): release only a commit whose CI passed.")
    return str(url)


def ci_runs(api_url: str, repository: str, sha: str, token: str) -> list[dict[str, Any]]:
    """ci.yml's runs for pushes of `sha` to main, from the GitHub API the workflow runs against (GITHUB_API_URL)."""
    query = urllib.parse.urlencode({"head_sha": sha, "branch": "main", "event": "push", "per_page": "100"})
    request = urllib.request.Request(
        f"{api_url}/repos/{repository}/actions/workflows/ci.yml/runs?{query}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            runs: list[dict[str, Any]] = json.load(answer)["workflow_runs"]
    except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as exc:  # HTTPError is an OSError; ValueError: not JSON
        reason = f"HTTP {exc.code}" if isinstance(exc, urllib.error.HTTPError) else f"{type(exc).__name__}: {exc}"
        raise ReleaseError(f"Could not read ci.yml's runs from {api_url} ({reason}); the job needs `actions: read`.") from exc
    return runs


def registry_token(registry: str, name: str, scope: str, login: tuple[str, str] | None = None) -> str:
    """A bearer token for `scope` (pull, or pull,push) on repository `name`: anonymous, or for a user and password."""
    query = urllib.parse.urlencode({"scope": f"repository:{name}:{scope}", "service": "ghcr.io"})
    request = urllib.request.Request(f"{registry}/token?{query}")
    if login:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(login).encode()).decode())
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(json.load(answer)["token"])


def check_public_image(pushed: str, registry: str = "https://ghcr.io") -> None:
    """Read the pushed image's manifest with an anonymous pull token, as a workflow using the action does.

    A new ghcr.io package is private unless the account's settings say otherwise; moving vX to a release whose image
    only the maintainers can pull would break every workflow on `@vX`, so the release stops here instead.
    """
    found = PUSHED_IMAGE.fullmatch(pushed)
    if not found:
        raise ReleaseError(f"'{pushed}' is not an image by digest, ghcr.io/<owner>/<name>@sha256:<64 hex digits>, in lower case.")
    name = found["name"].removeprefix("ghcr.io/")
    try:
        token = registry_token(registry, name, "pull")
        manifest = urllib.request.Request(
            f"{registry}/v2/{name}/manifests/{found['digest']}", headers={"Authorization": f"Bearer {token}", "Accept": ", ".join(MANIFEST_TYPES)}
        )
        urllib.request.urlopen(manifest, timeout=30).close()
    except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as exc:  # HTTPError is an OSError; ValueError: not JSON
        reason = f"HTTP {exc.code}" if isinstance(exc, urllib.error.HTTPError) else f"{type(exc).__name__}: {exc}"
        raise ReleaseError(
            f"{pushed} cannot be pulled without logging in ({reason}). Make the package public (its Package settings"
            " on GitHub, once), then re-run the failed jobs: no tag has moved yet."
        ) from exc


def tag_image(pushed: str, tags: Sequence[str], login: tuple[str, str], registry: str = "https://ghcr.io") -> None:
    """Put each tag on the pushed image by storing its manifest, byte for byte, under the tag: the tag then names the
    very digest that was verified (a tool that rewrites the index would give the tag another digest)."""
    found = PUSHED_IMAGE.fullmatch(pushed)
    if not found:
        raise ReleaseError(f"'{pushed}' is not an image by digest, ghcr.io/<owner>/<name>@sha256:<64 hex digits>, in lower case.")
    name = found["name"].removeprefix("ghcr.io/")
    try:
        token = registry_token(registry, name, "pull,push", login)
        manifest = urllib.request.Request(
            f"{registry}/v2/{name}/manifests/{found['digest']}", headers={"Authorization": f"Bearer {token}", "Accept": ", ".join(MANIFEST_TYPES)}
        )
        with urllib.request.urlopen(manifest, timeout=30) as answer:
            media_type, body = answer.headers.get_content_type(), answer.read()
        if "sha256:" + hashlib.sha256(body).hexdigest() != found["digest"]:
            raise ReleaseError(f"The registry answered {pushed} with a manifest of another digest; no tag was set.")
        for tag in tags:
            put = urllib.request.Request(
                f"{registry}/v2/{name}/manifests/{tag}",
                data=body,
                method="PUT",
                headers={"Authorization": f"Bearer {token}", "Content-Type": media_type},
            )
            urllib.request.urlopen(put, timeout=30).close()
    except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as exc:  # HTTPError is an OSError; ValueError: not JSON
        reason = f"HTTP {exc.code}" if isinstance(exc, urllib.error.HTTPError) else f"{type(exc).__name__}: {exc}"
        raise ReleaseError(f"Could not tag {pushed} as {', '.join(tags)} ({reason}); the job needs `packages: write`.") from exc


def release_tags(root: Path) -> list[str]:
    listed = subprocess.run(["git", "tag", "--list", "v*"], cwd=root, capture_output=True, text=True, check=True)
    return listed.stdout.split()


def documentation_pages(root: Path) -> list[str]:
    """README.md and docs/: the pages whose `suiterun==` install lines follow the version."""
    return ["README.md", *(str(path.relative_to(root)) for path in sorted((root / "docs").glob("**/*.md")))]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="release.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--root", type=Path, default=ROOT, help="the checkout to read and change (default: this one)")
    commands = top.add_subparsers(dest="command", required=True)
    prepared = commands.add_parser("prepare")
    prepared.add_argument("version", help="X.Y.Z, or major, minor or patch for the next one")
    prepared.add_argument("--date", type=datetime.date.fromisoformat, default=datetime.datetime.now(datetime.UTC).date())
    commands.add_parser("check").add_argument("version")
    commands.add_parser("ci-passed").add_argument("sha")
    commands.add_parser("base-image")
    public = commands.add_parser("public-image")
    public.add_argument("image")
    public.add_argument("--registry", default="https://ghcr.io", help="the registry's base URL (tests point it at a local fake)")
    tagged = commands.add_parser("tag-image")
    tagged.add_argument("image")
    tagged.add_argument("tags", nargs="+")
    tagged.add_argument("--registry", default="https://ghcr.io", help="the registry's base URL (tests point it at a local fake)")
    pin = commands.add_parser("pin-image")
    pin.add_argument("version")
    pin.add_argument("image")
    commands.add_parser("tag-moves").add_argument("version")
    notes = commands.add_parser("notes")
    notes.add_argument("version")
    notes.add_argument("--image", help="the released image by digest, named at the end of the notes")
    return top


def from_environment(environ: Mapping[str, str], *names: str) -> list[str]:
    missing = [name for name in names if not environ.get(name)]
    if missing:
        raise ReleaseError(f"This command reads {', '.join(missing)} from the environment, as a workflow step has it.")
    return [environ[name] for name in names]


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    """Carry out one command on the checkout `args.root`; what it prints."""
    root: Path = args.root

    def read(path: str) -> str:
        return (root / path).read_text(encoding="utf-8")

    if args.command == "prepare":
        files = {path: read(path) for path in ["suiterun/__init__.py", "CHANGELOG.md", *documentation_pages(root)]}
        for path, text in prepare(files, args.version, args.date).items():
            (root / path).write_text(text, encoding="utf-8")
        return f"Prepared {declared_version(read('suiterun/__init__.py'))}: review CHANGELOG.md, commit, and merge to main.\n"
    if args.command == "check":
        return (
            f"version={args.version}\nmajor={check_release(args.version, read('suiterun/__init__.py'), read('CHANGELOG.md'), release_tags(root))}\n"
        )
    if args.command == "ci-passed":
        api_url, repository, token = from_environment(environ, "GITHUB_API_URL", "GITHUB_REPOSITORY", "GH_TOKEN")
        return f"CI passed for {args.sha}: {ci_verdict(ci_runs(api_url, repository, args.sha, token), args.sha)}\n"
    if args.command == "base-image":
        return base_image_context(read("Dockerfile"), read("base.Dockerfile")) + "\n"
    if args.command == "public-image":
        check_public_image(args.image, args.registry)
        return ""
    if args.command == "tag-image":
        actor, token = from_environment(environ, "GITHUB_ACTOR", "GH_TOKEN")
        tag_image(args.image, args.tags, (actor, token), args.registry)
        return f"Tagged {args.image} as {', '.join(args.tags)}.\n"
    if args.command == "pin-image":
        (root / "action.yml").write_text(pin_image(read("action.yml"), args.version, args.image), encoding="utf-8")
        return ""
    if args.command == "tag-moves":
        moves = tag_moves(args.version, release_tags(root))
        return f"major={str(moves.major).lower()}\nlatest={str(moves.latest).lower()}\n"
    image = f"\n**Image:** `{args.image}`\n" if args.image else ""
    return release_notes(read("CHANGELOG.md"), args.version) + image


def main(argv: list[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    args = parser().parse_args(argv)
    try:
        print(run(args, environ), end="")
    except ReleaseError as exc:
        print(f"release.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
