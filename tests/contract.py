"""The vendor contract, as data: every vendor runs the same scenarios and faults through one helper.

A vendor's test module declares its minimal valid inputs in BASE_INPUTS and a
table of `Case`s (sandbox scenario -> expected normalized result); the fault
cases in FAULT_CASES run against every vendor in BASE_INPUTS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sandbox.server import SandboxServer
from tests.support import ActionRun, FakeClock, run_in_process, sandbox_url

# The smallest valid inputs per vendor (besides vendor, api-key, api-url).
BASE_INPUTS: dict[str, dict[str, str]] = {
    "aiva": {"tests": "test-1,test-2,test-3,test-4"},
    "autosana": {"suites": "suite-1", "tests": "flow-1", "app-id": "web-app"},
    "test-lab": {"project-id": "7"},
    "testclix": {"tests": "01GDZYY7EMI1&07GD8QUVVINJDI,01GDZYY7EMI2&07GD8QUVVINJDI"},
    "kapptivate": {"tests": "1389,1390,1391,1392", "devices": '{"your_device": "Pixel 8"}'},
}


@dataclass(frozen=True)
class Case:
    scenario: str  # the sandbox key without `sandbox-`, e.g. "mixed" or "pass+flaky"
    status: str  # expected `status` output
    exit_code: int
    counts: dict[str, int] | None = None  # expected total/passed/failed/errored/skipped/pending, when given
    inputs: dict[str, str] = field(default_factory=dict)  # added to the vendor's base inputs
    in_summary: tuple[str, ...] = ()  # text the job summary must contain
    in_log: tuple[str, ...] = ()  # text the log must contain

    @property
    def id(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in self.inputs.items())
        return f"{self.scenario}[{extra}]" if extra else self.scenario


def run_case(vendor: str, case: Case, server: SandboxServer, tmp_path: Path, clock: FakeClock | None = None) -> ActionRun:
    inputs = {
        "vendor": vendor,
        "api-key": f"sandbox-{case.scenario}",
        "api-url": sandbox_url(server, vendor),
        "poll-interval": "10s",
        "timeout": "5m",
        **BASE_INPUTS[vendor],
        **case.inputs,
    }
    return run_in_process(tmp_path, inputs, server=server, clock=clock or FakeClock())


def check_case(vendor: str, case: Case, server: SandboxServer, tmp_path: Path) -> ActionRun:
    run = run_case(vendor, case, server, tmp_path)
    assert run.outputs["status"] == case.status, run.log
    assert run.exit_code == case.exit_code, run.log
    if case.counts is not None:
        got = {name: int(run.outputs[name]) for name in case.counts}
        assert got == case.counts, run.log
    for text in case.in_summary:
        assert text in run.summary, f"{text!r} not in summary:\n{run.summary}"
    for text in case.in_log:
        assert text in run.log, f"{text!r} not in log:\n{run.log}"
    # Whatever happened, the summary and outputs were written and the key never leaked.
    assert run.summary.strip()
    assert f"sandbox-{case.scenario}" not in run.summary + "".join(run.outputs.values())
    assert "Traceback" not in run.log
    return run


# Faults every vendor that can report results must survive or report clearly.
FAULT_CASES = [
    Case("wrong-key", "error", 3, in_log=("API key",)),  # the sandbox rejects keys naming no scenario
    Case("pass+flaky", "passed", 0),  # 503, 429 with Retry-After and an HTML body while polling
    Case("pass+trigger503", "passed", 0),  # a 503 on the first trigger creates nothing: retried once
    Case("pass+html", "error", 3, in_log=("HTML",)),  # api-url points at a web app
    Case("pass+down", "error", 3, in_log=("503",)),
    Case("never", "timeout", 3, inputs={"timeout": "2m"}),
    Case("quick", "passed", 0),  # over before the first status read
    Case("pass", "passed", 0, inputs={"fail-on": "never"}),
    Case("mixed", "failed", 0, inputs={"fail-on": "never"}),
    Case("mixed", "failed", 0, inputs={"fail-on": "error"}),
    Case("never", "timeout", 3, inputs={"timeout": "1m", "fail-on": "error"}),
]
