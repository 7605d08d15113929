"""History across runs, as a workflow sees it: runs of the action against the sandbox carrying one history-file, for
every vendor that reports tests it can name, and the file's edges (unusable, foreign, an input error, a timeout)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.server import SandboxServer
from suiterun.registry import ADAPTERS
from tests.contract import BASE_INPUTS
from tests.support import ActionRun, run_in_process, sandbox_url

HISTORY = "ci/history.json"
PUSH = {"GITHUB_EVENT_NAME": "push", "GITHUB_REF_NAME": "main"}
# Vendors whose answers name their tests (Test-Lab reports only what it started).
NAMING = [vendor for vendor, adapter in ADAPTERS.items() if adapter.can_poll]


def pull_request(tmp_path: Path, number: int = 17) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": number, "head": {"sha": "f" * 40}}}), encoding="utf-8")
    return {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_HEAD_REF": "feature/x", "GITHUB_BASE_REF": "main"}


def run(
    vendor: str,
    scenario: str,
    sandbox: SandboxServer,
    tmp_path: Path,
    *,
    event: Mapping[str, str] | None = None,
    more: Mapping[str, str] | None = None,
    **inputs: str,
) -> ActionRun:
    given = {
        "vendor": vendor,
        "api-key": f"sandbox-{scenario}",
        "api-url": sandbox_url(sandbox, vendor),
        "poll-interval": "10s",
        "history-file": HISTORY,
        **BASE_INPUTS[vendor],
        **({"tests": "t-1,t-2,t-3,t-4"} if vendor == "aiva" else {}),
        **{name.replace("_", "-"): value for name, value in {**inputs, **(more or {})}.items()},
    }
    result = run_in_process(tmp_path, given, server=sandbox, extra_env=event or PUSH)
    (tmp_path / "github_output").write_text("", encoding="utf-8")  # the next step's outputs are its own
    (tmp_path / "step_summary").write_text("", encoding="utf-8")
    return result


def by_name(result: ActionRun) -> dict[str, dict[str, Any]]:
    return {test["name"]: test for test in result.results["tests"]}


def stored(tmp_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / HISTORY).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("vendor", NAMING)
def test_a_pull_request_sees_which_failures_are_its_own(vendor: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    first = run(vendor, "mixed", sandbox, tmp_path)  # main, before the change
    assert first.outputs["new-failures"] != "0" and first.outputs["known-failures"] == "0"
    second = run(vendor, "mixed-next", sandbox, tmp_path, event=pull_request(tmp_path))
    assert second.outputs["status"] == "failed" and second.exit_code == 1, second.log
    tests = by_name(second)
    # In the order of `mixed-next`; TestCLIX names its tests by id.
    login, checkout = (
        tests.get("Login with valid credentials", second.results["tests"][0]),
        tests.get("Checkout with expired card", second.results["tests"][1]),
    )
    assert (login["history"], login["baseline"]) == ("new", "P")
    assert (checkout["history"], checkout["baseline"]) == ("known", "F")
    assert second.outputs["new-failures"] == "1" and second.outputs["known-failures"] == "1"
    assert second.outputs["failed-tests"] == f"{login['identity']},{checkout['identity']}"
    assert "**Compared with main** (1 earlier run): 1 new failure · 1 known" in second.summary
    assert "Compared with main (1 earlier run): 1 new failure, 1 known" in second.log
    log = second.log.splitlines()
    assert log.index(next(line for line in log if "[new]" in line)) < log.index(next(line for line in log if "[known]" in line))
    runs = stored(tmp_path)["runs"]
    assert [(item["branch"], item["pull_request"], item["status"]) for item in runs] == [("main", None, "failed"), ("feature/x", 17, "failed")]


def test_a_test_that_passes_again_is_fixed(sandbox: SandboxServer, tmp_path: Path) -> None:
    run("autosana", "mixed", sandbox, tmp_path)
    second = run("autosana", "mixed-next", sandbox, tmp_path)
    assert by_name(second)["Reset password"]["history"] == "fixed" and second.outputs["fixed"] == "1"
    (row,) = [line for line in second.summary.splitlines() if "Reset password" in line]
    assert row.startswith("| ✅ | [Reset password](") and row.endswith("| fixed ⚠️ |")  # its last baseline result: errored


def test_fail_on_new_failures_lets_known_failures_pass_with_warnings(sandbox: SandboxServer, tmp_path: Path) -> None:
    run("autosana", "mixed", sandbox, tmp_path)
    again = run("autosana", "mixed", sandbox, tmp_path, fail_on="new-failures")  # the same failures as on main
    assert (again.outputs["status"], again.exit_code) == ("failed", 0), again.log
    assert again.outputs["known-failures"] == "2" and again.outputs["new-failures"] == "0"
    assert "::error" not in again.log
    assert "::warning title=Checkout with expired card (known failure)::" in again.log
    worse = run("autosana", "mixed-next", sandbox, tmp_path, fail_on="new-failures")  # login broke: new
    assert (worse.outputs["status"], worse.exit_code) == ("failed", 1)
    assert "::error title=Login with valid credentials (new failure)::" in worse.log
    assert "::warning title=Checkout with expired card (known failure)::" in worse.log


def test_without_a_history_new_failures_is_exactly_failure(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = run("autosana", "mixed", sandbox, tmp_path, history_file="", fail_on="new-failures")
    assert (result.outputs["status"], result.exit_code) == ("failed", 1)
    assert result.outputs["new-failures"] == "0" and not (tmp_path / HISTORY).exists()
    assert "Not compared with earlier runs: with `history-file`" in result.summary


def test_a_pull_requests_own_earlier_runs_are_never_its_baseline(sandbox: SandboxServer, tmp_path: Path) -> None:
    run("autosana", "mixed", sandbox, tmp_path, event=pull_request(tmp_path))
    second = run("autosana", "mixed", sandbox, tmp_path, event=pull_request(tmp_path))
    assert second.outputs["known-failures"] == "0" and second.outputs["new-failures"] == "2"
    assert "**Compared with main** (no earlier runs yet: every failure counts as new)" in second.summary


def test_baseline_branch_chooses_whose_runs_count(sandbox: SandboxServer, tmp_path: Path) -> None:
    run("autosana", "mixed", sandbox, tmp_path, event={"GITHUB_EVENT_NAME": "push", "GITHUB_REF_NAME": "release/2"})
    on_main = run("autosana", "mixed", sandbox, tmp_path)
    assert on_main.outputs["known-failures"] == "0"
    pinned = run("autosana", "mixed", sandbox, tmp_path, baseline_branch="release/2")
    assert pinned.outputs["known-failures"] == "2" and "**Compared with release/2** (1 earlier run)" in pinned.summary


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "it is not a JSON history"),
        (json.dumps({"version": 1, "vendor": "aiva", "tests": [], "runs": []}).encode(), "it is the history of another vendor"),
        (b"[" * 50_000, "it is not a JSON history"),
    ],
    ids=["not-json", "other-vendor", "hostile"],
)
def test_a_history_file_that_cannot_be_used_is_a_warning_and_is_written_anew(
    content: bytes, why: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    (tmp_path / HISTORY).parent.mkdir(parents=True)
    (tmp_path / HISTORY).write_bytes(content)
    result = run("autosana", "mixed", sandbox, tmp_path)
    assert result.outputs["status"] == "failed" and result.exit_code == 1  # never an error of its own
    assert f"History file '{HISTORY}' cannot be used: {why}" in result.log and why in result.summary
    assert result.outputs["new-failures"] == "2"  # judged as with no history: every failure is new
    assert stored(tmp_path)["vendor"] == "autosana" and len(stored(tmp_path)["runs"]) == 1


def test_history_size_keeps_the_newest_runs(sandbox: SandboxServer, tmp_path: Path) -> None:
    for _ in range(3):
        run("autosana", "pass", sandbox, tmp_path, history_size="2")
    assert len(stored(tmp_path)["runs"]) == 2


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"history_file": "../history.json"}, "Input 'history-file' must name a file inside the workspace"),
        ({"history_file": "reports/r.xml", "junit_file": "reports/r.xml"}, "Inputs 'history-file' and 'junit-file' name the same file"),
        ({"history_size": "0"}, "Input 'history-size' must be a whole number from 1 to 200, got '0'"),
        ({"history_size": "201"}, "Input 'history-size' must be a whole number from 1 to 200"),
        ({"timeout": "forever"}, "Input 'timeout' must be a duration"),
    ],
)
def test_an_input_error_writes_no_history(inputs: dict[str, str], message: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    (tmp_path / HISTORY).parent.mkdir(parents=True)
    (tmp_path / HISTORY).write_text("left alone", encoding="utf-8")
    result = run("autosana", "mixed", sandbox, tmp_path, more=inputs)
    assert result.exit_code == 2 and message in result.log
    assert (tmp_path / HISTORY).read_text(encoding="utf-8") == "left alone" and sandbox.requests == []


def test_a_run_that_times_out_is_recorded_with_what_finished(sandbox: SandboxServer, tmp_path: Path) -> None:
    result = run("autosana", "never", sandbox, tmp_path, timeout="1m")
    assert result.outputs["status"] == "timeout"
    (recorded,) = stored(tmp_path)["runs"]
    assert recorded["status"] == "timeout" and set(recorded["results"]) == {"."}  # recorded, not finished


class CancelledWhilePolling(requests.Session):
    """The job is cancelled during the first status read."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if method == "GET":
            raise KeyboardInterrupt
        return super().request(method, url, *args, **kwargs)


def test_a_cancelled_run_is_recorded_too(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requests, "Session", CancelledWhilePolling)
    result = run("autosana", "mixed", sandbox, tmp_path)
    assert result.outputs["status"] == "cancelled"
    assert [item["status"] for item in stored(tmp_path)["runs"]] == ["cancelled"]


def test_a_key_in_a_test_name_never_reaches_the_history_file(sandbox: SandboxServer, tmp_path: Path) -> None:
    run("autosana", "mixed", sandbox, tmp_path, api_key="sandbox-mixed")
    assert "sandbox-mixed" not in (tmp_path / HISTORY).read_text(encoding="utf-8")


def test_the_command_carries_the_history_too(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from suiterun import cli  # noqa: PLC0415

    monkeypatch.chdir(tmp_path)
    environ = {"PATH": "", "GITLAB_CI": "true", "CI_COMMIT_SHA": "a" * 40, "CI_COMMIT_REF_NAME": "main"}
    args = ["run", "--vendor", "autosana", "--app-id", "web", "--suites", "s-1", "--api-url", sandbox_url(sandbox, "autosana")]
    args += ["--history-file", "h.json", "--poll-interval", "1s"]
    from tests.support import FakeClock  # noqa: PLC0415

    assert cli.main(args, {**environ, "SUITERUN_API_KEY": "sandbox-mixed"}, clock=FakeClock()) == 1
    merge_request = {**environ, "CI_MERGE_REQUEST_IID": "5", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_COMMIT_REF_NAME": "feature"}
    assert cli.main([*args, "--outputs-file", "o.json"], {**merge_request, "SUITERUN_API_KEY": "sandbox-mixed-next"}, clock=FakeClock()) == 1
    outputs = json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))
    assert (outputs["new-failures"], outputs["known-failures"], outputs["fixed"]) == ("1", "1", "1")
    assert [item["pull_request"] for item in json.loads((tmp_path / "h.json").read_text(encoding="utf-8"))["runs"]] == [None, 5]
