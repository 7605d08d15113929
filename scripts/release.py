"""The release steps that change files, for .github/workflows/release.yml (stdlib only; README: Releasing).

  release.py version vX.Y.Z                        print `version=X.Y.Z` and `major=X` (for GITHUB_OUTPUT), if the
                                                   package says the same version (suiterun.__version__)
  release.py notes X.Y.Z [--changelog FILE]        print the CHANGELOG.md section of X.Y.Z (the release notes)
  release.py pin-image X.Y.Z IMAGE [--action FILE] point action.yml at the prebuilt IMAGE:X.Y.Z instead of the Dockerfile
  release.py public-image X.Y.Z IMAGE              check that IMAGE:X.Y.Z can be pulled without logging in, as every
                                                   user of the action pulls it

Each refuses, with one line on stderr and exit code 1, what would make a wrong release: a tag that is not vX.Y.Z, a
version the changelog does not describe, an action.yml that does not build from `Dockerfile`, an image users cannot pull.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
IMAGE = re.compile(r"ghcr\.io/[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*")
BUILD_FROM_SOURCE = re.compile(r"^(?P<indent>[ \t]+)image: Dockerfile[ \t]*$", re.M)
# What buildx pushes for a multi-platform image with attestations (an OCI index), and the older equivalents.
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


class ReleaseError(Exception):
    """What makes this release wrong, in one line."""


def parse_tag(tag: str, package_init: str) -> tuple[str, str]:
    """`v1.2.3` -> (`1.2.3`, `1`), when suiterun/__init__.py (`package_init`) says `__version__ = "1.2.3"` too."""
    match = VERSION.fullmatch(tag.removeprefix("v")) if tag.startswith("v") else None
    if not match:
        raise ReleaseError(f"The tag '{tag}' is not a release tag: releases are tagged vX.Y.Z, e.g. v1.2.3.")
    declared = re.search(r'^__version__ = "([^"]+)"', package_init, re.M)
    if not declared or declared.group(1) != match.group(0):
        said = declared.group(1) if declared else "nothing"
        raise ReleaseError(f"The tag '{tag}' does not match suiterun.__version__ ({said}); set it to {match.group(0)} on main, then tag again.")
    return match.group(0), match.group(1)


def release_notes(changelog: str, version: str) -> str:
    """The body of the `## [X.Y.Z]` section, without its heading."""
    heading = re.search(rf"^## \[{re.escape(version)}\][^\n]*\n", changelog, re.M)
    if not heading:
        raise ReleaseError(f"CHANGELOG.md has no section '## [{version}]': move the Unreleased entries under it before tagging.")
    following = re.search(r"^## \[", changelog[heading.end() :], re.M)
    body = changelog[heading.end() : heading.end() + following.start() if following else len(changelog)]
    body = re.sub(r"^\[[^\]]+\]: \S+\s*$", "", body, flags=re.M).strip()  # link references belong to the whole file
    if not body:
        raise ReleaseError(f"The CHANGELOG.md section of {version} is empty.")
    return body + "\n"


def check_image_reference(version: str, image: str) -> None:
    """Refuse what would not make `IMAGE:VERSION` the image of a release."""
    if not VERSION.fullmatch(version):
        raise ReleaseError(f"'{version}' is not a version X.Y.Z.")
    if not IMAGE.fullmatch(image):
        raise ReleaseError(f"'{image}' is not an image name ghcr.io/<owner>/<name> in lower case.")


def pin_image(action: str, version: str, image: str) -> str:
    """action.yml with `image: Dockerfile` replaced by the prebuilt `docker://IMAGE:VERSION`; nothing else changes."""
    check_image_reference(version, image)
    found = BUILD_FROM_SOURCE.findall(action)
    if len(found) != 1:
        raise ReleaseError("action.yml must have exactly one line 'image: Dockerfile' (main builds from source); it has " + str(len(found)) + ".")
    return BUILD_FROM_SOURCE.sub(lambda match: f"{match['indent']}image: docker://{image}:{version}", action)


def check_public_image(version: str, image: str, registry: str = "https://ghcr.io") -> None:
    """Read IMAGE:VERSION's manifest with an anonymous pull token, as a workflow using the action does.

    A new ghcr.io package is private unless the account's settings say otherwise; moving vX to a release whose image
    only the maintainers can pull would break every workflow on `@vX`, so the release stops here instead.
    """
    check_image_reference(version, image)
    name = image.removeprefix("ghcr.io/")
    query = urllib.parse.urlencode({"scope": f"repository:{name}:pull", "service": "ghcr.io"})
    try:
        with urllib.request.urlopen(f"{registry}/token?{query}", timeout=30) as answer:
            token = json.load(answer)["token"]
        manifest = urllib.request.Request(
            f"{registry}/v2/{name}/manifests/{version}", headers={"Authorization": f"Bearer {token}", "Accept": ", ".join(MANIFEST_TYPES)}
        )
        urllib.request.urlopen(manifest, timeout=30).close()
    except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as exc:  # HTTPError is an OSError; ValueError: not JSON
        reason = f"HTTP {exc.code}" if isinstance(exc, urllib.error.HTTPError) else f"{type(exc).__name__}: {exc}"
        raise ReleaseError(
            f"{image}:{version} cannot be pulled without logging in ({reason}). Make the package public (its Package settings"
            " on GitHub, once), then re-run the failed jobs: no tag has moved yet."
        ) from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="release.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    tag = commands.add_parser("version")
    tag.add_argument("tag")
    tag.add_argument("--package-init", type=Path, default=ROOT / "suiterun" / "__init__.py")
    notes = commands.add_parser("notes")
    notes.add_argument("version")
    notes.add_argument("--changelog", type=Path, default=ROOT / "CHANGELOG.md")
    pin = commands.add_parser("pin-image")
    pin.add_argument("version")
    pin.add_argument("image")
    pin.add_argument("--action", type=Path, default=ROOT / "action.yml")
    public = commands.add_parser("public-image")
    public.add_argument("version")
    public.add_argument("image")
    public.add_argument("--registry", default="https://ghcr.io", help="the registry's base URL (tests point it at a local fake)")
    args = parser.parse_args(argv)
    try:
        if args.command == "version":
            version, major = parse_tag(args.tag, args.package_init.read_text(encoding="utf-8"))
            print(f"version={version}\nmajor={major}")
        elif args.command == "notes":
            print(release_notes(args.changelog.read_text(encoding="utf-8"), args.version), end="")
        elif args.command == "public-image":
            check_public_image(args.version, args.image, args.registry)
        else:
            args.action.write_text(pin_image(args.action.read_text(encoding="utf-8"), args.version, args.image), encoding="utf-8")
    except ReleaseError as exc:
        print(f"release.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
