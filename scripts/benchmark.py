"""`make bench`: measure the action's start-up, how soon it reports a finished run, memory and image; prints figures with
their targets, not pass/fail."""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from bench_verdict import verdict_figures
from local_runner import ROOT, ActionRun, Sandbox, build_image, docker_available, run_action, sandbox_process

from sandbox.scenarios import SLOW_SECONDS

POLL_INTERVAL = 1.0  # seconds; the finish-to-exit target is one interval + 0.5 s
BASE_INPUTS = {"vendor": "autosana", "app-id": "web-app", "suites": "suite-1", "poll-interval": f"{POLL_INTERVAL:g}s", "timeout": "5m"}
BASE_IMAGE = "python:3.13-slim"
UPLOAD_MIB = 300
INSTALL = ROOT / "composite/install.py"
UV = shutil.which("uv", path=str(Path(sys.executable).parent))  # requirements-dev.txt installs it in the venv
UPLOAD_INPUTS = {"bundle-id": "com.acme.shop", "platform": "android", "build-path": "build/app-release.apk"}


def report(figure: str, value: str, target: str) -> None:
    print(f"{figure:<58} {value:<44} target: {target}", flush=True)


def spread(values: list[float], unit: str = "s") -> str:
    return f"median {statistics.median(values):.2f}{unit}, max {max(values):.2f}{unit}"


def timed_runs(
    sandbox: Sandbox, key: str, times: int, *, image: str | None, extra: Mapping[str, str] | None = None
) -> list[tuple[ActionRun, list[float]]]:
    """Run the action `times` times; each run with the receive times of the vendor requests it sent, in order."""
    results = []
    for _ in range(times):
        run = run_action({**BASE_INPUTS, **(extra or {}), "api-key": key, "api-url": sandbox.vendor_url("autosana")}, image=image)
        received = sorted(r["received"] for r in sandbox.requests() if r["vendor"] == "autosana" and run.started <= r["received"] <= run.ended)
        if not received:
            raise SystemExit(f"The action sent no request to the sandbox (exit code {run.exit_code}):\n{run.log}")
        results.append((run, received))
    return results


def start_to_first_request(sandbox: Sandbox, image: str | None, times: int) -> list[float]:
    return [received[0] - run.started for run, received in timed_runs(sandbox, "sandbox-pass", times, image=image, extra={"wait": "false"})]


def finish_to_exit(sandbox: Sandbox, times: int) -> list[float]:
    # The `slow` run completes SLOW_SECONDS after the trigger (the first request) was received.
    return [run.ended - (received[0] + SLOW_SECONDS) for run, received in timed_runs(sandbox, "sandbox-slow", times, image=None)]


def peak_memory_mib(sandbox: Sandbox, key: str) -> float:
    (run, _), *_ = timed_runs(sandbox, key, 1, image=None)
    return run.max_rss_kib / 1024


def upload_memory(sandbox: Sandbox) -> str:
    """Peak memory of an upload-only run, with a tiny build and with a 300 MiB one: the upload streams from disk."""
    peaks = []
    for size in (1024, UPLOAD_MIB * 2**20):
        inputs = {"vendor": "autosana", "api-key": "sandbox-pass", "api-url": sandbox.vendor_url("autosana"), **UPLOAD_INPUTS, "timeout": "5m"}
        run = run_action(inputs, image=None, workspace_files={UPLOAD_INPUTS["build-path"]: size})
        if run.outputs.get("status") != "uploaded":
            raise SystemExit(f"The upload run ended {run.outputs.get('status')}:\n{run.log}")
        peaks.append(run.max_rss_kib / 1024)
    return f"{peaks[1]:.0f} MiB ({peaks[1] - peaks[0]:+.1f} MiB against a 1 KiB build)"


def history_figures(rounds: int) -> str:
    """The history file of 2,000 tests over 30 runs: its size, and the median time to read it and write it back with one
    more run (what one use of the action adds to a job)."""
    from suiterun.history import History, RecordedRun, fitted, load, save  # noqa: PLC0415

    keys = [f"01GDZYY7EMI{number:05d}&07GD8QUVVINJDI" for number in range(2000)]
    runs = tuple(
        RecordedRun(
            f"2026-11-{day + 1:02d}T12:00:00Z",
            "main",
            "a" * 40,
            None,
            "https://github.com/o/r/actions/runs/1",
            "failed",
            {key: "F" if (number + day) % 17 == 0 else "P" for number, key in enumerate(keys)},
        )
        for day in range(30)
    )
    history = History("testclix", runs)
    seconds = []
    with tempfile.TemporaryDirectory(prefix="suiterun-history-") as folder:
        path = Path(folder) / "history.json"
        save(path, history)
        for _ in range(rounds):
            started = time.perf_counter()
            save(path, load(path, "testclix").appended(runs[-1], keep=30))
            seconds.append(time.perf_counter() - started)
    return f"{len(fitted(history)) / 2**20:.2f} MiB; read and written in {statistics.median(seconds) * 1000:.0f} ms (median of {rounds})"


def presigned_upload_url(sandbox: Sandbox) -> str:
    """A fresh presigned storage URL, from the sandbox's Autosana start-upload (as the action gets one)."""
    body = json.dumps({"bundle_id": UPLOAD_INPUTS["bundle-id"], "platform": "android", "filename": "app.apk"}).encode()
    headers = {"X-API-Key": "sandbox-pass", "Content-Type": "application/json"}
    request = urllib.request.Request(f"{sandbox.vendor_url('autosana')}/api/ci/start-upload", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as reply:
        url: str = json.load(reply)["upload_url"]
        return url


def upload_throughput(sandbox: Sandbox, rounds: int) -> str:
    """MiB/s of the action's PUT (suiterun.upload.put_file) and of `curl -T` streaming the same file from disk to the
    same storage, interleaved, median of `rounds` each (the file is in the page cache for both after the first)."""
    from suiterun.clock import Deadline, SystemClock  # noqa: PLC0415 - the benchmark's own process sends this one
    from suiterun.secrets import Secrets  # noqa: PLC0415
    from suiterun.upload import put_file  # noqa: PLC0415

    if shutil.which("curl") is None:
        return "skipped: curl is not installed"
    seconds: dict[str, list[float]] = {"ours": [], "curl": []}
    with tempfile.TemporaryDirectory(prefix="suiterun-upload-") as folder:
        build = Path(folder) / "app.apk"
        build.write_bytes(os.urandom(UPLOAD_MIB * 2**20))
        for _ in range(rounds):
            url = presigned_upload_url(sandbox)
            started = time.monotonic()
            subprocess.run(["curl", "--silent", "--show-error", "--fail", "--output", os.devnull, "--upload-file", str(build), url], check=True)
            seconds["curl"].append(time.monotonic() - started)
            url = presigned_upload_url(sandbox)
            started = time.monotonic()
            put_file(build, url, deadline=Deadline.after(SystemClock(), 600), log=lambda line: None, label="upload", secrets=Secrets())
            seconds["ours"].append(time.monotonic() - started)
    ours, curl = (UPLOAD_MIB / statistics.median(seconds[name]) for name in ("ours", "curl"))
    return f"{ours:.0f} MiB/s, curl -T {curl:.0f} MiB/s ({ours / curl:.2f} x curl)"


def composite_steps(environ: Mapping[str, str]) -> float:
    """The composite variant's set-up as the runner runs it, two processes (install.py --find, then install.py); seconds."""
    started = time.monotonic()
    for argv in (["--find"], []):
        done = subprocess.run([sys.executable, str(INSTALL), *argv], env=environ, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"composite/install.py {' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
    return time.monotonic() - started


def composite_environ(tool_cache: str, *, uv: bool, restored: bool = False) -> dict[str, str]:
    """A fresh runner's: the tool cache given, empty pip and uv caches (the wheels are downloaded), uv on PATH or not."""
    path = [folder for folder in os.environ["PATH"].split(os.pathsep) if not shutil.which("uv", path=folder)]
    if uv and UV:
        path.insert(0, str(Path(UV).parent))
    environ = {**os.environ, "RUNNER_TOOL_CACHE": tool_cache, "PATH": os.pathsep.join(path)}
    environ |= {"PIP_CACHE_DIR": f"{tool_cache}.pip", "UV_CACHE_DIR": f"{tool_cache}.uv"}
    if restored:
        environ["SUITERUN_RESTORED"] = "true"
    return environ


@functools.cache
def composite_setup(times: int) -> tuple[str, str]:
    """Cold: an empty tool cache, built with pip (no uv on PATH) and with uv. Warm: reusing what pip built. Restored: a copy
    of it in another empty tool cache, as the Actions cache restores it on another runner (the copy is not timed: the
    cache's download is GitHub's), checked and reused."""
    with tempfile.TemporaryDirectory(prefix="suiterun-bench-") as scratch:
        with_pip = composite_environ(f"{scratch}/toolcache", uv=False)
        cold_pip = composite_steps(with_pip)
        cold_uv = f"{composite_steps(composite_environ(f'{scratch}/uv', uv=True)):.1f} s" if UV else "no uv beside this Python (make venv)"
        warm = [composite_steps(with_pip) for _ in range(times)]
        restored = []
        for run in range(times):
            tool_cache = f"{scratch}/restored-{run}"
            shutil.copytree(f"{scratch}/toolcache/suiterun", f"{tool_cache}/suiterun", symlinks=True)
            restored.append(composite_steps(composite_environ(tool_cache, uv=False, restored=True)))
    return f"{cold_pip:.1f} s / {cold_uv}", f"{spread(warm)} / {spread(restored)}"


def image_size_mib(image: str) -> float:
    size = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", image], capture_output=True, text=True, check=True).stdout
    return int(size) / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", default="suiterun-action:dev", help="tag for the action's image (default suiterun-action:dev)")
    parser.add_argument("--runs", type=int, default=5, help="runs per timing figure (default 5)")
    args = parser.parse_args()
    measure: list[tuple[str, Callable[[], str], str]] = []
    docker = docker_available()

    with sandbox_process() as sandbox:
        print(f"Benchmark: the action against the sandbox at {sandbox.url}, {args.runs} runs per timing\n", flush=True)
        measure += [
            ("process start -> first vendor request", lambda: spread(start_to_first_request(sandbox, None, args.runs)), "<= 0.15 s"),
            (
                "run finished -> action exited",
                lambda: spread(finish_to_exit(sandbox, args.runs)),
                f"<= one poll interval + 0.5 s = {POLL_INTERVAL + 0.5:g} s (poll-interval {POLL_INTERVAL:g}s, +-10% jitter)",
            ),
            ("peak memory, 4 tests with failure details", lambda: f"{peak_memory_mib(sandbox, 'sandbox-mixed'):.0f} MiB", "<= 100 MiB"),
            ("peak memory, 2000 tests", lambda: f"{peak_memory_mib(sandbox, 'sandbox-many'):.0f} MiB", "<= 100 MiB"),
            ("composite set-up, cold: pip / uv", lambda: composite_setup(args.runs)[0], "uv <= 3 s; pip once per runner and lock"),
            ("composite set-up, warm / restored from the Actions cache", lambda: composite_setup(args.runs)[1], "<= 0.5 s (+ the cache's download)"),
            (f"peak memory, uploading a {UPLOAD_MIB} MiB build", lambda: upload_memory(sandbox), "a few MiB more than a 1 KiB build"),
            (f"upload throughput, {UPLOAD_MIB} MiB to the sandbox's storage", lambda: upload_throughput(sandbox, 3), ">= 0.9 x curl -T"),
            ("history file, 2,000 tests x 30 runs", lambda: history_figures(5), "well under 2 MiB; well under 0.5 s"),
        ]
        if docker:
            measure += [
                ("image build, no cache", lambda: f"{build_image(args.image, no_cache=True):.1f} s", "<= 120 s (needs the package registry)"),
                (
                    "image size",
                    lambda: f"{image_size_mib(args.image):.0f} MiB",
                    f"<= base {BASE_IMAGE} ({image_size_mib(BASE_IMAGE):.0f} MiB) + 40 MiB",
                ),
                (
                    "docker run -> first vendor request",
                    lambda: spread(start_to_first_request(sandbox, args.image, args.runs)),
                    "none (container start-up; GitHub adds its own)",
                ),
            ]
        for figure, value, target in measure:
            report(figure, value(), target)
        print("\nAdaptive polling against a fixed interval (median of 3 runs each, all at once in real time; about a minute):", flush=True)
        for figure, measured, target in verdict_figures(sandbox):
            report(figure, measured, target)
    if not docker:
        print("\nDocker is not available (docker info failed): image figures skipped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
