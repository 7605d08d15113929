"""`make demo`: run the action against the sandbox on a run with failures, and print its log, summary and outputs."""

from __future__ import annotations

import argparse

from local_runner import build_image, docker_available, run_action, sandbox_process

# A red Autosana run: one failed and one crashed flow out of four.
DEMO_INPUTS = {
    "vendor": "autosana",
    "api-key": "sandbox-mixed",
    "bundle-id": "com.acme.shop",
    "platform": "android",
    "suites": "smoke",
    "poll-interval": "1s",
    "timeout": "2m",
}
SHOWN_OUTPUTS = ("status", "total", "passed", "failed", "errored", "skipped", "pending", "run-ids", "run-url", "duration")


def section(title: str) -> None:
    print(f"\n===== {title} =====", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", default="suiterun-action:dev", help="tag for the action's image (default suiterun-action:dev)")
    parser.add_argument("--local", action="store_true", help="run `python entrypoint.py` even when Docker is available")
    args = parser.parse_args()

    image = None if args.local or not docker_available() else args.image
    if image:
        print(f"Building the action's image {image} ...", flush=True)
        build_image(image)
    with sandbox_process() as sandbox:
        where = f"in the Docker image {image}" if image else "from the local venv (python entrypoint.py)"
        print(f"Running the action {where} against the sandbox at {sandbox.url}", flush=True)
        run = run_action({**DEMO_INPUTS, "api-url": sandbox.vendor_url("autosana")}, image=image)

    section("log")
    print(run.log.rstrip())
    section("job summary (GITHUB_STEP_SUMMARY)")
    print(run.summary.rstrip())
    section("outputs (GITHUB_OUTPUT)")
    for name in SHOWN_OUTPUTS:
        print(f"{name}={run.outputs.get(name, '')}")
    print(f"results=<{len(run.outputs.get('results', ''))} characters of JSON>")
    print("summary=<the job summary above>")
    section("exit code")
    verdict = "fail" if run.exit_code else "pass"
    print(f"The action exited {run.exit_code}, so its workflow step would {verdict} (the demo itself exits 0).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
