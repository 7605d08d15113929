"""The history file: each test's results in earlier runs, carried between runs in a JSON file (a cache or an artifact),
so that this run's failures can be told apart: new, known (failing on the baseline branch already) or flaky.

The file (version 1) is compact, so 2,000 tests over 30 runs stay near 150 KiB:

    {"version": 1, "vendor": "aiva",
     "tests": ["<identity>", ...],                      every test any kept run has, in order
     "runs": [{"time": "2026-11-30T12:00:00Z", "branch": "main", "commit": "<sha>", "pull_request": null,
               "run_url": "https://...", "status": "failed", "results": "PPF-E"}, ...]}   oldest first

`results` has one character per entry of `tests`: P passed, R passed on a retry (after failing), F failed,
E errored, S skipped, . not finished, - not in that run. A test's identity is stable across runs (a test id or
name the vendor keeps, never a per-run id); one longer than MAX_IDENTITY is cut and given a hash of the whole.
A file that cannot be used is never trusted in part: the run is judged as with no history, so a broken or
forged-by-accident file can only make a failure count as new.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from suiterun.context import CIContext
from suiterun.results import Comparison, Outcome, TestResult, TestStatus, plural
from suiterun.workspace_files import give_to_workspace_owner

VERSION = 1
MAX_FILE_BYTES = 5 * 1024 * 1024  # a larger file is refused unread; the writer keeps below it
MAX_RUNS = 200  # the most `history-size` allows
MAX_IDENTITY = 256  # characters of a test's identity kept in the file
FLIP_WINDOW = 10  # a test is flaky when its last this-many baseline results flip between pass and fail...
FLAKY_FLIPS = 2  # ...at least this many times

# One character per result in `results`.
PASSED, RETRIED, FAILED, ERRORED, SKIPPED, UNFINISHED, ABSENT = "P", "R", "F", "E", "S", ".", "-"
CODES = {TestStatus.PASSED: PASSED, TestStatus.FAILED: FAILED, TestStatus.ERRORED: ERRORED, TestStatus.SKIPPED: SKIPPED}
_RESULTS = re.compile(r"[PRFES.\-]*")
_FAILURES = (FAILED, ERRORED)
_RUN_FIELDS: dict[str, type | tuple[type, ...]] = {
    "time": str,
    "branch": str,
    "commit": str,
    "pull_request": (int, type(None)),
    "run_url": str,
    "status": str,
    "results": str,
}
_RUN_STATUSES = {"passed", "failed", "error", "timeout", "cancelled", "triggered", "uploaded"}


class Label(StrEnum):
    """What a test of this run is, against its baseline."""

    NEW = "new"  # failed now, and the baseline does not explain it
    KNOWN = "known"  # failed now, and failed at its last baseline result
    FLAKY = "flaky"  # failed now and flips on the baseline, or passed only on a retry
    FIXED = "fixed"  # passed now, and failed at its last baseline result
    NONE = ""  # nothing to say: passed as before, skipped, not finished


@dataclass(frozen=True)
class HistorySettings:
    """Inputs history-file, history-size and baseline-branch, checked with the others."""

    path: Path  # relative to the workspace
    keep: int  # runs kept, oldest dropped first
    baseline_branch: str  # "" when neither the input nor the CI names one: then there is no baseline


class HistoryError(ValueError):
    """The file cannot be used; the message says why, in words for a warning."""


@dataclass(frozen=True)
class RecordedRun:
    """One earlier run: where it ran, how it ended, and each test's result code by identity."""

    time: str
    branch: str
    commit: str
    pull_request: int | None
    run_url: str
    status: str
    results: Mapping[str, str] = field(default_factory=dict)  # identity -> one result code


@dataclass(frozen=True)
class History:
    vendor: str
    runs: tuple[RecordedRun, ...] = ()  # oldest first

    def appended(self, run: RecordedRun, *, keep: int) -> History:
        return replace(self, runs=(*self.runs, run)[-keep:])

    def baseline(self, branch: str) -> list[RecordedRun]:
        """The runs that show how the baseline branch behaves, most recent first: that branch's runs outside any
        pull request (a pull request's own earlier runs are its author's changes, never the baseline). Outside any CI
        and git ("" for a branch), the runs that had no branch either."""
        return [run for run in reversed(self.runs) if run.branch == branch and run.pull_request is None]


def identity(text: str) -> str:
    """A test's identity as the file keeps it: whole up to MAX_IDENTITY characters, else cut and marked with a hash
    of the whole (two long names that share a beginning stay apart, and the same name maps to the same key)."""
    if len(text) <= MAX_IDENTITY:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{text[: MAX_IDENTITY - 17]}~{digest}"


def result_code(status: TestStatus, *, retried: bool = False) -> str:
    if status is TestStatus.PASSED and retried:
        return RETRIED
    return CODES.get(status, UNFINISHED)


# --- Judging a test against its baseline ---


def past_results(key: str, baseline: Iterable[RecordedRun]) -> list[str]:
    """The test's finished results in the baseline runs (passed, retried, failed, errored), most recent first."""
    return [code for run in baseline if (code := run.results.get(key, ABSENT)) in (PASSED, RETRIED, FAILED, ERRORED)]


def flips(results: Sequence[str]) -> int:
    """How often the results change between pass and fail; a pass after a retry is a change of its own."""
    window = results[:FLIP_WINDOW]
    changes = sum((earlier in _FAILURES) != (later in _FAILURES) for earlier, later in itertools.pairwise(window))
    return changes + window.count(RETRIED)


def label(status: TestStatus, past: Sequence[str], *, retried: bool = False) -> Label:
    """The rule, in this order: a pass after a retry is flaky; a failure is flaky when its baseline flips at least
    FLAKY_FLIPS times within its last FLIP_WINDOW results (even if the last of them failed: a test that flips is
    not reliably broken), known when its last baseline result failed, else new; a pass is fixed when its last
    baseline result failed."""
    if status is TestStatus.PASSED and retried:
        return Label.FLAKY
    last_failed = bool(past) and past[0] in _FAILURES
    if status in (TestStatus.FAILED, TestStatus.ERRORED):
        if flips(past) >= FLAKY_FLIPS:
            return Label.FLAKY
        return Label.KNOWN if last_failed else Label.NEW
    if status is TestStatus.PASSED and last_failed:
        return Label.FIXED
    return Label.NONE


_ICONS = {PASSED: "✅", RETRIED: "🔁", FAILED: "❌", ERRORED: "⚠️"}


def strip(past: Sequence[str]) -> str:
    """The last FLIP_WINDOW baseline results (most recent first), oldest first as icons: the pattern a reviewer reads at
    a glance."""
    return pattern("".join(reversed(past[:FLIP_WINDOW])))


def pattern(codes: str) -> str:
    """Result codes (a test's `baseline`, oldest first) as icons; the templates' `pattern` filter."""
    return "".join(_ICONS.get(code, "") for code in codes)


# --- This run against its baseline ---

# The order failures are listed and annotated in: the ones this change may have caused first.
_FAILURE_ORDER = {Label.NEW: 0, Label.NONE: 0, Label.KNOWN: 1, Label.FLAKY: 2}


def new_first(tests: Iterable[TestResult]) -> list[TestResult]:
    """`tests` with new failures first, then known, then flaky (a stable sort: without a history, as they came)."""
    return sorted(tests, key=lambda test: _FAILURE_ORDER.get(Label(test.history), 0))


def comparison_line(comparison: Comparison) -> str:
    """`Compared with main (12 earlier runs): 2 new failures, 1 known, 1 flaky, 1 fixed`, for the log."""
    earlier = plural(comparison.runs, "earlier run") if comparison.runs else "no earlier runs yet"
    counts = f"{plural(comparison.new, 'new failure')}, {comparison.known} known, {comparison.flaky} flaky, {comparison.fixed} fixed"
    return f"Compared with {comparison.branch or 'earlier runs'} ({earlier}): {counts}"


def compare(outcome: Outcome, settings: HistorySettings, history: History) -> Outcome:
    """Each test labelled against its baseline results (a test without an identity has none: its failure is new), with
    its last FLIP_WINDOW of them; and the counts the summary and the outputs show."""
    baseline = history.baseline(settings.baseline_branch)
    tests = []
    for test in outcome.snapshot.tests:
        past = past_results(identity(test.identity), baseline) if test.identity else []
        judged = label(test.status, past, retried=test.retries > 0)
        tests.append(replace(test, history=judged.value, baseline="".join(reversed(past[:FLIP_WINDOW]))))
    if not any(test.identity for test in tests):  # nothing to compare (Test-Lab, a run that ended before any test)
        return outcome
    count = {kind: sum(test.history == kind for test in tests) for kind in Label}
    comparison = Comparison(
        settings.baseline_branch, len(baseline), new=count[Label.NEW], known=count[Label.KNOWN], flaky=count[Label.FLAKY], fixed=count[Label.FIXED]
    )
    return replace(outcome, snapshot=replace(outcome.snapshot, tests=tuple(tests)), comparison=comparison)


def record(outcome: Outcome, *, time: str, branch: str, commit: str, pull_request: int | None, run_url: str) -> RecordedRun:
    """This run as the file keeps it: each test with an identity, by its result (a test not finished is `.`)."""
    results = {identity(test.identity): result_code(test.status, retried=test.retries > 0) for test in outcome.snapshot.tests if test.identity}
    return RecordedRun(time, branch, commit, pull_request, run_url, outcome.status.value, results)


def open_history(settings: HistorySettings, vendor: str, workspace: Path, warn: Callable[[str], None]) -> History:
    """The history before the run; a file that cannot be used is a warning, and the run is judged as with none."""
    try:
        return load(workspace / settings.path, vendor)
    except HistoryError as exc:
        warn(
            f"History file '{settings.path.as_posix()}' cannot be used: {exc}. This run is compared with no earlier runs "
            "(every failure counts as new), and the file is written anew."
        )
        return History(vendor)


def update(outcome: Outcome, settings: HistorySettings, history: History, context: CIContext, warn: Callable[[str], None]) -> Outcome:
    """After the run: the outcome compared with the baseline, and the file written back with this run added."""
    compared = compare(outcome, settings, history)
    run = record(
        compared,
        time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        branch=context.git.branch,
        commit=context.git.commit_sha,
        pull_request=context.pull_request,
        run_url=context.run_url or context.job_url,
    )
    try:
        save(context.workspace / settings.path, history.appended(run, keep=settings.keep))
        give_to_workspace_owner(context.workspace / settings.path, context.workspace)
    except OSError as exc:
        warn(f"Could not write history file '{settings.path.as_posix()}' ({exc.strerror or exc}); the next run has no record of this one.")
    return compared


# --- The file ---


def load(path: Path, vendor: str) -> History:
    """The history in `path` (an empty one when there is no file), or HistoryError saying why it cannot be used."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return History(vendor)
    except OSError as exc:
        raise HistoryError(f"it cannot be read ({exc.strerror or exc})") from None
    if not path.is_file():
        raise HistoryError("it is not a file")
    if size > MAX_FILE_BYTES:
        raise HistoryError(f"it is larger than {MAX_FILE_BYTES // 2**20} MiB")
    try:
        data = json.loads(path.read_bytes(), parse_constant=_refuse_constant)
    except (OSError, ValueError, RecursionError) as exc:
        raise HistoryError(f"it is not a JSON history ({type(exc).__name__})") from None
    return parse(data, vendor)


def parse(data: Any, vendor: str) -> History:
    """A history from the decoded file, checked whole: any part out of shape refuses all of it."""
    if not isinstance(data, dict) or data.get("version") != VERSION:
        found = data.get("version") if isinstance(data, dict) else None
        raise HistoryError(f"it is not a version {VERSION} history (version {json.dumps(found)[:20]})")
    if data.get("vendor") != vendor:
        raise HistoryError(f"it is the history of another vendor ({json.dumps(data.get('vendor'))[:40]}), not {vendor}")
    tests, runs = data.get("tests"), data.get("runs")
    if not (isinstance(tests, list) and all(isinstance(key, str) and 0 < len(key) <= MAX_IDENTITY for key in tests)):
        raise HistoryError("its test list is not a list of test identities")
    if len(set(tests)) != len(tests):
        raise HistoryError("its test list names a test twice")
    if not (isinstance(runs, list) and len(runs) <= MAX_RUNS):
        raise HistoryError(f"its runs are not a list of at most {MAX_RUNS}")
    return History(vendor, tuple(_parse_run(run, tests) for run in runs))


def _parse_run(run: Any, tests: list[str]) -> RecordedRun:
    if not isinstance(run, dict) or set(run) != set(_RUN_FIELDS):
        raise HistoryError("a run in it does not have the fields of a run")
    for name, kind in _RUN_FIELDS.items():
        if not isinstance(run[name], kind) or isinstance(run[name], bool):
            raise HistoryError(f"a run's {name} in it is not a {getattr(kind, '__name__', 'number or null')}")
    results = run["results"]
    if len(results) != len(tests) or not _RESULTS.fullmatch(results) or run["status"] not in _RUN_STATUSES:
        raise HistoryError("a run's results in it do not match its test list")
    codes = {key: code for key, code in zip(tests, results, strict=True) if code != ABSENT}
    return RecordedRun(run["time"], run["branch"], run["commit"], run["pull_request"], run["run_url"], run["status"], codes)


def encode(history: History) -> bytes:
    keys = list(dict.fromkeys(key for run in history.runs for key in run.results))
    runs = [
        {
            "time": run.time,
            "branch": run.branch,
            "commit": run.commit,
            "pull_request": run.pull_request,
            "run_url": run.run_url,
            "status": run.status,
            "results": "".join(run.results.get(key, ABSENT) for key in keys),
        }
        for run in history.runs
    ]
    document = {"version": VERSION, "vendor": history.vendor, "tests": keys, "runs": runs}
    return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8", "surrogatepass")


def fitted(history: History, limit: int = MAX_FILE_BYTES) -> bytes:
    """The encoded history within `limit` bytes, the oldest runs dropped first (so the next run never refuses it)."""
    encoded = encode(history)
    runs = history.runs
    while len(encoded) > limit and runs:
        runs = runs[max(1, len(runs) // 8) :]  # drop in steps: one file of many large runs must not take long
        encoded = encode(replace(history, runs=runs))
    return encoded


def save(path: Path, history: History) -> None:
    """Write the file atomically: a temporary file beside it, renamed over it (a concurrent reader or writer sees the
    old file or the new one, never a torn one). OSError when it cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # as a file written the usual way, not mkstemp's owner-only 0600
        with os.fdopen(handle, "wb") as file:
            file.write(fitted(history))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")
