"""Autosana: the contract table against the sandbox, and the requests the adapter sends."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.scenarios import INJECTION_NAME
from sandbox.server import SandboxServer
from suiterun.clock import Deadline
from suiterun.errors import VendorError
from suiterun.http import VendorClient
from tests.contract import Case, check_case, run_case
from tests.support import FakeClock, RecordingReporter
from vendors.autosana import AutosanaAdapter, AutosanaOptions

CASES = [
    Case("pass", "passed", 0, {"total": 3, "passed": 3, "failed": 0, "errored": 0, "skipped": 0, "pending": 0}),
    # Every flow fails on its first execution (a later run of the same key passes: retry-failed is not Autosana's).
    Case("flaky-tests", "failed", 1, {"total": 3, "failed": 3}, in_summary=("Failed on its first execution",)),
    Case(
        "mixed",
        "failed",
        1,
        {"total": 4, "passed": 2, "failed": 1, "errored": 1, "pending": 0},
        in_summary=("Checkout with expired card", "Card expired", "The app crashed", "Failing step", "2-annotated.png"),
    ),
    Case("terminated", "failed", 1, {"total": 2, "passed": 0, "errored": 2}, in_summary=("terminated",)),
    Case("group-error", "failed", 1, {"total": 3, "passed": 3, "failed": 0}, in_summary=("ended in", "error")),
    Case("counter-mismatch", "failed", 1, {"total": 3, "passed": 3}, in_summary=("counts 5 flows but lists 3",)),
    Case("empty", "error", 3, {"total": 0}, in_summary=("no tests ran",)),
    Case("skipped", "error", 3, {"total": 1, "skipped": 1}),
    Case("unknown-status", "error", 3, {"total": 2, "passed": 1, "pending": 1}, in_log=("weird-new-state",)),
    Case("pass", "passed", 0, inputs={"app-id": "", "bundle-id": "com.acme.shop", "platform": "android"}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_contract(case: Case, sandbox: SandboxServer, tmp_path: Path) -> None:
    check_case("autosana", case, sandbox, tmp_path)


def test_trigger_request_carries_the_documented_fields(sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {"suites": "s-1,s-2", "tests": "f-1\nf-2", "app-id": "", "bundle-id": "com.acme", "platform": "IOS", "variables": "PR=42,BRANCH=x"}
    run = run_case("autosana", Case("pass", "passed", 0, inputs=inputs), sandbox, tmp_path)
    (post,) = run.requests_to("POST", "/api/v1/flows/run")
    assert post["body"] == {
        "suite_ids": ["s-1", "s-2"],
        "flow_ids": ["f-1", "f-2"],
        "bundle_id": "com.acme",
        "platform": "ios",
        "variables": {"PR": "42", "BRANCH": "x"},
    }
    assert post["headers"]["x-api-key"] == "sandbox-pass"


def test_details_are_fetched_for_failed_runs_only(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("autosana", Case("mixed", "failed", 1), sandbox, tmp_path)
    detail_reads = [r["path"] for r in run.requests_to("GET", "/api/v1/runs/") if r["path"] != "/api/v1/runs/status"]
    failed_ids = {t["id"] for t in run.results["tests"] if t["status"] in ("failed", "errored")}
    assert {path.rsplit("/", 1)[1] for path in detail_reads} == failed_ids
    assert len(detail_reads) == 2


def test_vendor_text_cannot_break_the_table_or_inject_commands(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("autosana", Case("injection", "failed", 1), sandbox, tmp_path)
    row = next(line for line in run.summary.splitlines() if line.startswith("| ❌"))
    assert row.count(" | ") == 4  # five cells, the pipe in the name is escaped
    assert "a \\| b &lt;img src=x&gt; @\u200bsomeone" in row
    assert "<img src=x>" not in run.summary  # the vendor's tag is escaped; only the action's own screenshot <img> remain
    for line in run.log.splitlines():
        assert not line.lstrip().startswith(("::error::x", "::warning title=pwned", "##[error]")), line
    assert any(INJECTION_NAME.split("<")[0] in test["name"] for test in run.results["tests"])


def test_the_flow_group_runs_are_linked_as_soon_as_they_start(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("autosana", Case("pass", "triggered", 0, inputs={"wait": "false"}), sandbox, tmp_path)
    (url,) = re.findall(r"^Autosana: flow group run (\S+)$", run.log, re.M)
    assert url.startswith("https://autosana.ai/runs/groups/") and run.outputs["run-url"] == url
    assert f"[Open the run in Autosana]({url})" in run.summary
    assert run.requests_to("GET", "/api/v1/runs/status") == []
    (tmp_path / "waited").mkdir()
    waited = run_case("autosana", Case("pass", "passed", 0), sandbox, tmp_path / "waited")
    assert re.findall(r"^Autosana: flow group run (\S+)$", waited.log, re.M) == [waited.outputs["run-url"]]


def test_the_build_and_commit_autosana_ran_are_logged_once(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("autosana", Case("pass", "passed", 0), sandbox, tmp_path)
    assert run.log.count("Autosana runs My App (android) at commit abc123 on main") == 1  # the API page's example app
    assert "::warning" not in run.log  # nothing was uploaded here: no commit to compare with


class TimingOut:
    """A session whose every request times out while reading the answer, recording the timeouts it was given."""

    def __init__(self) -> None:
        self.timeouts: list[Any] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.timeouts.append(kwargs["timeout"])
        raise requests.ReadTimeout("read timed out")


@pytest.mark.parametrize(("left", "read"), [(3600.0, 300.0), (42.0, 42.0)])
def test_the_trigger_may_take_300_seconds_within_the_timeout_and_is_sent_once(left: float, read: float) -> None:
    session = TimingOut()
    client = VendorClient("Autosana", "https://backend.autosana.ai", session, Deadline.after(FakeClock(), left))  # type: ignore[arg-type]
    adapter = AutosanaAdapter(client, AutosanaOptions(("s-1",), (), app_id="shop-web"), RecordingReporter())
    with pytest.raises(VendorError, match="a run may have been created, check the Autosana dashboard before re-running"):
        adapter.trigger()
    assert session.timeouts == [(10.0, read)]  # one attempt, whose answer may take 300 s (never past the timeout)
