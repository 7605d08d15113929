"""The history file and the rules that tell a failure new, known or flaky (and a pass fixed), from the file alone."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from suiterun import history
from suiterun.history import History, HistoryError, Label, RecordedRun
from suiterun.results import TestStatus

P, R, F, E, S = "P", "R", "F", "E", "S"


def run(results: str, *, branch: str = "main", pull_request: int | None = None, key: str = "login") -> RecordedRun:
    return RecordedRun("2026-11-30T12:00:00Z", branch, "abc123", pull_request, "https://ci.example/1", "failed", {key: results} if results else {})


def judged(status: TestStatus, *baseline_oldest_first: str, retried: bool = False) -> Label:
    recorded = History("aiva", tuple(run(code) for code in baseline_oldest_first))
    return history.label(status, history.past_results("login", recorded.baseline("main")), retried=retried)


FAILED, ERRORED, PASSED, SKIPPED = TestStatus.FAILED, TestStatus.ERRORED, TestStatus.PASSED, TestStatus.SKIPPED


@pytest.mark.parametrize(
    ("status", "baseline", "retried", "expected"),
    [
        (FAILED, (), False, Label.NEW),  # no history: every failure is new
        (ERRORED, (), False, Label.NEW),
        (FAILED, (P, P, P, P), False, Label.NEW),  # after a stable pass: this change broke it
        (FAILED, (P, P, P, F), False, Label.KNOWN),  # the baseline fails it already
        (ERRORED, (F, F, E), False, Label.KNOWN),
        (FAILED, (P, F, P, P), False, Label.FLAKY),  # flips twice within the last 10
        (FAILED, (F, P, F), False, Label.FLAKY),  # flips, and its last baseline result failed: flaky wins over known
        (FAILED, (P, P, R), False, Label.NEW),  # a pass after a retry is one flip: not enough alone
        (FAILED, (R, P, R), False, Label.FLAKY),  # two of them are
        (FAILED, (F, P, P, P, P, P, P, P, P, P, P, P), False, Label.NEW),  # the one flip is older than the last 10
        (PASSED, (P, P), True, Label.FLAKY),  # passed only on a retry
        (PASSED, (), True, Label.FLAKY),  # with or without a history
        (PASSED, (P, F), False, Label.FIXED),
        (PASSED, (F, E), False, Label.FIXED),
        (PASSED, (P, P), False, Label.NONE),
        (PASSED, (F, R), False, Label.NONE),  # the last baseline result passed (on a retry)
        (SKIPPED, (F,), False, Label.NONE),
        (FAILED, (F, S, S), False, Label.KNOWN),  # skipped runs say nothing: its last result that counts failed
    ],
)
def test_each_test_is_labelled_against_its_baseline(status: TestStatus, baseline: tuple[str, ...], retried: bool, expected: Label) -> None:
    assert judged(status, *baseline, retried=retried) is expected


def test_a_pull_requests_own_runs_and_other_branches_are_never_the_baseline() -> None:
    recorded = History(
        "aiva",
        (
            run(P),  # main: passed
            run(F, branch="feature", pull_request=17),  # the pull request's own failures
            run(F, branch="main", pull_request=17),  # a pull request whose head branch is called main, from a fork
            run(F, branch="release"),
        ),
    )
    baseline = recorded.baseline("main")
    assert [item.results for item in baseline] == [{"login": P}]
    assert history.label(FAILED, history.past_results("login", baseline)) is Label.NEW
    assert recorded.baseline("") == []


def test_a_test_the_baseline_never_saw_is_new() -> None:
    recorded = History("aiva", (run(F, key="other"),))
    assert history.label(FAILED, history.past_results("login", recorded.baseline("main"))) is Label.NEW


def test_the_strip_shows_the_last_ten_baseline_results_oldest_first() -> None:
    past = history.past_results("login", History("aiva", tuple(run(code) for code in "FFPPPPPPPPFE")).baseline("main"))
    assert history.strip(past) == "✅✅✅✅✅✅✅✅❌⚠️"


# --- The file: written atomically, read whole or not at all ---


def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_history_survives_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "h/history.json"
    recorded = History("aiva", (run(P), RecordedRun("t", "main", "c", 17, "", "passed", {"login": R, "x": S})))
    history.save(path, recorded)
    assert history.load(path, "aiva") == recorded
    assert [item.name for item in path.parent.iterdir()] == ["history.json"]  # no temporary file left
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask()  # readable by the later steps that cache it, like any file


def test_keep_drops_the_oldest_runs() -> None:
    recorded = History("aiva")
    for number in range(5):
        recorded = recorded.appended(RecordedRun(str(number), "main", "", None, "", "passed", {}), keep=3)
    assert [item.time for item in recorded.runs] == ["2", "3", "4"]


def test_a_missing_file_is_an_empty_history(tmp_path: Path) -> None:
    assert history.load(tmp_path / "none.json", "aiva") == History("aiva")


def valid() -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(history.encode(History("aiva", (run(P),))))
    return decoded


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not json", "it is not a JSON history"),
        (b"\xff\xfe", "it is not a JSON history"),
        (b"[" * 100_000, "it is not a JSON history"),
        (json.dumps({**valid(), "version": 2}).encode(), "it is not a version 1 history (version 2)"),
        (json.dumps([1]).encode(), "it is not a version 1 history"),
        (json.dumps({**valid(), "vendor": "testclix"}).encode(), 'it is the history of another vendor ("testclix"), not aiva'),
        (json.dumps({**valid(), "tests": ["login", "login"], "runs": []}).encode(), "its test list names a test twice"),
        (json.dumps({**valid(), "tests": [{"$ne": 1}]}).encode(), "its test list is not a list of test identities"),
        (json.dumps({**valid(), "tests": ["x" * 5000]}).encode(), "its test list is not a list of test identities"),
        (json.dumps({**valid(), "runs": [valid()["runs"][0]] * 201}).encode(), "its runs are not a list of at most 200"),
        (json.dumps({**valid(), "runs": [{**valid()["runs"][0], "results": "PP"}]}).encode(), "do not match its test list"),
        (json.dumps({**valid(), "runs": [{**valid()["runs"][0], "results": "<"}]}).encode(), "do not match its test list"),
        (json.dumps({**valid(), "runs": [{**valid()["runs"][0], "status": "green"}]}).encode(), "do not match its test list"),
        (json.dumps({**valid(), "runs": [{**valid()["runs"][0], "pull_request": True}]}).encode(), "a run's pull_request in it is not"),
        (json.dumps({**valid(), "runs": [{**valid()["runs"][0], "extra": 1}]}).encode(), "does not have the fields of a run"),
        (json.dumps({**valid(), "runs": [{**valid()["runs"][0], "branch": ["main"]}]}).encode(), "a run's branch in it is not a str"),
        (b'{"version": 1, "vendor": "aiva", "tests": [], "runs": [], "x": NaN}', "it is not a JSON history"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_a_file_that_cannot_be_used_says_why(content: bytes, why: str, tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_bytes(content)
    with pytest.raises(HistoryError) as raised:
        history.load(path, "aiva")
    assert why in str(raised.value)


def test_a_file_over_five_mib_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_bytes(b" " * (5 * 1024 * 1024 + 1))
    with pytest.raises(HistoryError, match="larger than 5 MiB"):
        history.load(path, "aiva")


def test_a_folder_in_its_place_is_refused(tmp_path: Path) -> None:
    (tmp_path / "history.json").mkdir()
    with pytest.raises(HistoryError, match="not a file"):
        history.load(tmp_path / "history.json", "aiva")


def test_an_overlong_identity_is_cut_and_kept_apart_by_a_hash() -> None:
    first, second = "checkout " * 100 + "A", "checkout " * 100 + "B"
    assert len(history.identity(first)) == history.MAX_IDENTITY
    assert history.identity(first) != history.identity(second) and history.identity(first) == history.identity(first)
    assert history.identity("login") == "login"


def big_history(tests: int, runs: int) -> History:
    keys = [f"01GDZYY7EMI{number:05d}&07GD8QUVVINJDI" for number in range(tests)]
    return History(
        "testclix",
        tuple(RecordedRun(f"2026-11-{day:02d}", "main", "a" * 40, None, "https://ci/x", "failed", dict.fromkeys(keys, P)) for day in range(runs)),
    )


def test_two_thousand_tests_over_thirty_runs_stay_small() -> None:
    assert len(history.encode(big_history(2000, 30))) < 2 * 1024 * 1024


def test_the_writer_drops_the_oldest_runs_to_stay_readable() -> None:
    recorded = big_history(2000, 30)
    limit = len(history.encode(big_history(2000, 20)))  # room for about 20 of the 30 runs
    kept = json.loads(history.fitted(recorded, limit))
    assert len(history.fitted(recorded, limit)) <= limit and 10 <= len(kept["runs"]) <= 20
    assert kept["runs"][-1]["time"] == recorded.runs[-1].time  # the newest runs stay
