"""Failure annotations: one per failed test, `::error` when the step fails and `::warning` when it does not, capped."""

from __future__ import annotations

from pathlib import Path

from sandbox.server import SandboxServer
from tests.contract import Case, run_case


def commands(log: str, kind: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith(f"::{kind} ")]


def test_each_failed_test_is_an_error_annotation_titled_with_its_name(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("autosana", Case("mixed", "failed", 1), sandbox, tmp_path)
    checkout, reset, verdict = commands(run.log, "error")
    assert checkout.startswith(
        "::error title=Checkout with expired card::Autosana test failed: Expected the error 'Card expired' but the payment page stayed blank. https://"
    )
    assert reset.startswith("::error title=Reset password::Autosana test errored: The app crashed while opening the reset screen. https://")
    assert verdict.startswith("::error title=Autosana%3A failed::")
    assert commands(run.log, "warning") == [] and commands(run.log, "notice") == []


def test_failures_are_warnings_when_the_step_does_not_fail(sandbox: SandboxServer, tmp_path: Path) -> None:
    for fail_on in ("never", "error"):
        run = run_case("autosana", Case("mixed", "failed", 0, inputs={"fail-on": fail_on}), sandbox, tmp_path)
        assert run.exit_code == 0
        assert commands(run.log, "error") == []
        titles = [line.split("::")[1] for line in commands(run.log, "warning")]
        # The run's own line is a warning too: the step passes, so nothing is red.
        assert titles == ["warning title=Checkout with expired card", "warning title=Reset password", "warning title=Autosana%3A failed"]


def test_a_passing_run_has_no_annotations(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("autosana", Case("pass", "passed", 0), sandbox, tmp_path)
    assert [line for line in run.log.splitlines() if line.startswith(("::error", "::warning", "::notice"))] == []


def test_past_the_cap_one_notice_counts_the_rest_and_links_the_run(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("autosana", Case("many", "failed", 1), sandbox, tmp_path)
    errors = commands(run.log, "error")
    assert len(errors) == 10  # 9 tests and the run's own line: GitHub keeps 10 per step
    assert [line.split("::")[1] for line in errors[:3]] == [f"error title=Generated test {n:04d}" for n in (0, 10, 20)]
    (notice,) = commands(run.log, "notice")
    assert "191 more failed Autosana tests are not annotated; the job summary lists them. https://github.com/acme/shop/actions/runs/4242" in notice
