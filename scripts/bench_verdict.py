"""How soon after the vendor's run ends the action knows: adaptive polling against the fixed-interval baseline.

Every combination runs at once, in threads, in real time against one sandbox process: a short
run (SLOW_SECONDS) and a long one (LONG_SECONDS), at poll-interval 5 s and 15 s, each with the
adaptive schedule the action uses and with a fixed interval (the schedule before it). A figure
is the median over `repeats` runs of the time from the run's end to the verdict, and the
number of status reads. `python scripts/bench_verdict.py` prints them on their own.
"""

from __future__ import annotations

import io
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass

import requests
from local_runner import Sandbox, sandbox_process

from sandbox.scenarios import LONG_SECONDS, SLOW_SECONDS
from suiterun.clock import SystemClock
from suiterun.context import CIContext
from suiterun.engine import RunState, run_action
from suiterun.polling import PollSchedule
from suiterun.settings import Settings
from suiterun.workflow import Console

Row = tuple[str, str, str]
INTERVALS = (5.0, 15.0)
RUNS = (("short", "sandbox-slow", SLOW_SECONDS), ("long", "sandbox-long", LONG_SECONDS))


@dataclass(frozen=True)
class Trial:
    run: str  # short or long
    key: str
    run_seconds: float
    interval: float
    adaptive: bool

    def schedule(self) -> PollSchedule:
        return PollSchedule(self.interval) if self.adaptive else PollSchedule.fixed(self.interval)


@dataclass(frozen=True)
class Measured:
    end_to_verdict: float  # seconds from the vendor run's end to the action's verdict
    reads: int  # status requests this run sent


def measure(trial: Trial, sandbox: Sandbox, seed: int) -> Measured:
    environ = {
        "INPUT_VENDOR": "autosana",
        "INPUT_API-KEY": trial.key,
        "INPUT_API-URL": sandbox.vendor_url("autosana"),
        "INPUT_APP-ID": "web-app",
        "INPUT_SUITES": "suite-1",
        "INPUT_POLL-INTERVAL": f"{trial.interval:g}s",
        "INPUT_TIMEOUT": "5m",
    }
    workflow = Console(CIContext.from_environ(environ), out=io.StringIO())
    settings = Settings.from_environ(environ, workflow.context)
    triggered = time.time()
    outcome = run_action(
        settings,
        session=requests.Session(),
        clock=SystemClock(),
        workflow=workflow,
        rng=random.Random(seed),
        state=RunState(),
        schedule=trial.schedule(),
    )
    verdict = time.time()
    if outcome.status.value != "passed":
        raise SystemExit(f"A benchmark run ended {outcome.status.value}: {outcome.verdict.reason}")
    (batch_id,) = outcome.snapshot.run_ids
    log = sandbox.requests()
    trigger = next(r["received"] for r in log if r["method"] == "POST" and r["received"] >= triggered)
    reads = sum(1 for r in log if r["method"] == "GET" and r["query"].get("batch_id") == [batch_id])
    return Measured(verdict - (trigger + trial.run_seconds), reads)


def verdict_figures(sandbox: Sandbox, repeats: int = 3) -> list[Row]:
    trials = [Trial(run, key, seconds, interval, adaptive) for run, key, seconds in RUNS for interval in INTERVALS for adaptive in (True, False)]
    results: dict[Trial, list[Measured]] = {trial: [] for trial in trials}
    lock = threading.Lock()

    def work(trial: Trial, seed: int) -> None:
        measured = measure(trial, sandbox, seed)
        with lock:
            results[trial].append(measured)

    threads = [threading.Thread(target=work, args=(trial, seed)) for trial in trials for seed in range(repeats)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows: list[Row] = []
    for run, key, seconds in RUNS:
        for interval in INTERVALS:
            adaptive, fixed = (results[Trial(run, key, seconds, interval, flag)] for flag in (True, False))
            target = "seconds, not an interval" if seconds < interval else "<= ~3 reads more than fixed"
            figure = f"run end -> verdict, {run} run ({seconds:g} s), poll-interval {interval:g}s"
            rows.append((figure, f"{_median(adaptive)}, {_reads(adaptive)} (fixed: {_median(fixed)}, {_reads(fixed)})", target))
    return rows


def _median(measured: list[Measured]) -> str:
    return f"{statistics.median(m.end_to_verdict for m in measured):.1f} s"


def _reads(measured: list[Measured]) -> str:
    return f"{statistics.median(m.reads for m in measured):g} reads"


def main() -> int:
    with sandbox_process() as sandbox:
        for figure, value, target in verdict_figures(sandbox):
            print(f"{figure:<58} {value:<44} target: {target}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
