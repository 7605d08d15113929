"""Every vendor that reports results survives the same faults and honours fail-on and timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from tests.contract import BASE_INPUTS, FAULT_CASES, Case, check_case, run_case
from tests.support import FakeClock
from vendors import ADAPTERS

POLLING_VENDORS = [name for name, adapter in ADAPTERS.items() if adapter.can_poll]


def test_every_vendor_has_contract_inputs() -> None:
    assert set(BASE_INPUTS) == set(ADAPTERS)


@pytest.mark.parametrize("case", FAULT_CASES, ids=lambda case: case.id)
@pytest.mark.parametrize("vendor", POLLING_VENDORS)
def test_fault(vendor: str, case: Case, sandbox: SandboxServer, tmp_path: Path) -> None:
    check_case(vendor, case, sandbox, tmp_path)


@pytest.mark.parametrize("vendor", POLLING_VENDORS)
def test_trigger_retried_after_503_starts_exactly_one_run(vendor: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    emulator = sandbox.emulators[vendor]
    before = emulator.runs_created
    run = run_case(vendor, Case("pass+trigger503", "passed", 0), sandbox, tmp_path)
    assert run.outputs["status"] == "passed", run.log
    assert emulator.runs_created - before == len(run.outputs["run-ids"].split(","))


@pytest.mark.parametrize("vendor", POLLING_VENDORS)
def test_timeout_is_hard_and_reports_what_was_known(vendor: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    clock = FakeClock()
    start = clock.now
    run = run_case(vendor, Case("never", "timeout", 3, inputs={"timeout": "95s", "poll-interval": "10s"}), sandbox, tmp_path, clock)
    assert run.outputs["status"] == "timeout"
    assert clock.now - start <= 95 + 1e-6  # never slept past the deadline
    assert int(run.outputs["pending"]) > 0
    assert "timed out" in run.summary


@pytest.mark.parametrize("vendor", POLLING_VENDORS)
def test_wait_false_makes_no_status_request(vendor: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case(vendor, Case("pass", "triggered", 0, inputs={"wait": "false"}), sandbox, tmp_path)
    assert run.outputs["status"] == "triggered"
    assert run.exit_code == 0
    assert run.outputs["run-ids"]
    assert not [r for r in run.requests if r["method"] == "GET"], run.requests
