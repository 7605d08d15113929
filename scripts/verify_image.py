"""Run an image of the action on one platform against the sandbox, as the action and as the command, and check what it
did. The release runs it on the image it pushed, for linux/amd64 and linux/arm64 (under QEMU), before any tag moves;
ci.yml runs it on the image its end-to-end jobs share.

  python scripts/verify_image.py IMAGE [--platform linux/arm64] [--pull]

Exit code 0 when every check passed; otherwise 1, with a line for each failed check.
"""

from __future__ import annotations

import argparse
import os
import subprocess

from demo import DEMO_INPUTS
from local_runner import run_action, sandbox_process

from suiterun import __version__

# What Python inside the container reports for each platform the release publishes.
MACHINES = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}


def docker(*args: str, environ: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300, check=False, env=environ)


def verify(image: str, platform: str) -> list[tuple[str, bool, str]]:
    """Each check: what it shows, whether it held, and what was seen instead."""
    machine = docker("run", "--rm", "--platform", platform, "--entrypoint", "python", image, "-c", "import platform; print(platform.machine())")
    said = machine.stdout.strip() or machine.stderr.strip()
    checks = [(f"the image runs as {platform}", said == MACHINES.get(platform, platform), said)]
    version = docker("run", "--rm", "--platform", platform, image, "suiterun", "--version")
    checks.append((f"the command says suiterun {__version__}", version.stdout.strip() == f"suiterun {__version__}", version.stdout + version.stderr))
    with sandbox_process() as sandbox:
        # The action's door: a red Autosana run (one failed, one crashed flow of four) fails the step with its outputs.
        red = run_action({**DEMO_INPUTS, "api-url": sandbox.vendor_url("autosana")}, image=image, platform=platform)
        counts = {name: red.outputs.get(name) for name in ("status", "total", "passed", "failed", "errored")}
        expected = {"status": "failed", "total": "4", "passed": "2", "failed": "1", "errored": "1"}
        checks.append(("the action fails a red run with exit code 1", red.exit_code == 1, f"exit code {red.exit_code}\n{red.log}"))
        checks.append(("the action's outputs count the red run", counts == expected, str(counts)))
        checks.append(("the action writes the job summary", "Checkout with expired card" in red.summary, red.summary[:500]))
        # The command's door: a green run passes, with the key from the environment.
        command = ["run", "--rm", "--platform", platform, "--network", "host", "--env", "SUITERUN_API_KEY", image, "suiterun", "run"]
        command += ["--vendor", "autosana", "--api-url", sandbox.vendor_url("autosana"), "--app-id", "web-app", "--suites", "suite-1"]
        green = docker(*command, "--poll-interval", "1s", environ={**os.environ, "SUITERUN_API_KEY": "sandbox-pass"})
        said = green.stdout + green.stderr
        checks.append(("the command passes a green run", green.returncode == 0 and "Autosana: passed (3 tests passed)" in said, said))
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", help="the image, e.g. ghcr.io/owner/name@sha256:... or a local tag")
    parser.add_argument("--platform", default="linux/amd64", help="the platform to run (default linux/amd64)")
    parser.add_argument("--pull", action="store_true", help="pull the image for the platform first, without logging in")
    args = parser.parse_args()
    if args.pull:
        pulled = docker("pull", "--quiet", "--platform", args.platform, args.image)
        if pulled.returncode != 0:
            print(f"FAILED: docker pull --platform {args.platform} {args.image}: {pulled.stderr.strip()}")
            return 1
    failed = 0
    for what, held, seen in verify(args.image, args.platform):
        print(f"{'ok' if held else 'FAILED'}: {what} ({args.platform})" + ("" if held else f"; got: {seen.strip()}"), flush=True)
        failed += not held
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
