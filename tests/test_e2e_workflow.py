"""The e2e workflow stays in step with the action: entries name real vendors, inputs and outputs, and its checker catches mismatches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import ROOT, parse_outputs
from vendors import ADAPTERS, VENDOR_INPUTS

pytestmark = pytest.mark.io  # every test here runs a server or a process

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
JOB = yaml.safe_load((ROOT / ".github/workflows/e2e.yml").read_text(encoding="utf-8"))["jobs"]["action"]
ENTRIES: list[dict[str, Any]] = JOB["strategy"]["matrix"]["include"]
ACTION_STEP = next(step for step in JOB["steps"] if step.get("uses") == "./")


def test_every_vendor_specific_input_is_forwarded() -> None:
    assert set(VENDOR_INPUTS) <= set(ACTION_STEP["with"]), "add the missing inputs under `with:` in e2e.yml"
    assert all(value == f"${{{{ steps.inputs.outputs['{name}'] }}}}" for name, value in ACTION_STEP["with"].items())


def test_an_entry_becomes_the_action_inputs_with_the_defaults(tmp_path: Path) -> None:
    entry = {"name": "x", "vendor": "aiva", "key": "sandbox-mixed", "inputs": {"tests": "a,b", "timeout": "5m", "variables-per-test": '{"a": {}}'}}
    output = tmp_path / "output"
    env = {**os.environ, "ENTRY": json.dumps(entry), "SANDBOX": "http://127.0.0.1:9", "GITHUB_OUTPUT": str(output)}
    subprocess.run([sys.executable, str(ROOT / "scripts/e2e_expect.py"), "inputs"], env=env, check=True)
    assert parse_outputs(output.read_text(encoding="utf-8")) == {
        "poll-interval": "1s",
        "timeout": "5m",
        "api-url": "http://127.0.0.1:9/aiva",
        "allow-http": "false",
        "tests": "a,b",
        "variables-per-test": '{"a": {}}',
        "vendor": "aiva",
        "api-key": "sandbox-mixed",
    }


def test_every_vendor_has_a_passing_and_a_failing_entry() -> None:
    outcomes = {(entry["vendor"], entry["outcome"]) for entry in ENTRIES}
    assert {(vendor, outcome) for vendor in ADAPTERS for outcome in ("success", "failure")} <= outcomes


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["name"] for entry in ENTRIES])
def test_entry_names_real_vendor_inputs_and_outputs(entry: dict[str, Any]) -> None:
    assert entry["vendor"] in ADAPTERS
    assert entry["outcome"] in ("success", "failure")
    assert set(entry.get("inputs") or {}) <= set(ACTION["inputs"]) & set(ACTION_STEP["with"])
    assert set(entry.get("expect") or {}) <= set(ACTION["outputs"])
    assert set(entry) <= {"name", "vendor", "key", "inputs", "outcome", "expect", "summary", "not-in-summary"}


def run_checker(entry: dict[str, Any], outcome: str, outputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENTRY": json.dumps(entry), "OUTCOME": outcome, "OUTPUTS": json.dumps(outputs)}
    return subprocess.run([sys.executable, str(ROOT / "scripts/e2e_expect.py")], env=env, capture_output=True, text=True, check=False)


ENTRY = {"name": "mixed", "outcome": "failure", "expect": {"status": "failed", "failed": 1}, "summary": ["Checkout"], "not-in-summary": ["<img"]}
OUTPUTS = {"status": "failed", "failed": "1", "summary": "| ❌ | Checkout |"}


def test_checker_accepts_what_the_entry_expects() -> None:
    checked = run_checker(ENTRY, "failure", OUTPUTS)
    assert checked.returncode == 0, checked.stdout
    assert "mixed: outcome failure, status failed, as expected" in checked.stdout


@pytest.mark.parametrize(
    ("outcome", "outputs", "problem"),
    [
        ("success", OUTPUTS, "step outcome is 'success', expected 'failure'"),
        ("failure", {**OUTPUTS, "failed": "2"}, "output failed is '2', expected '1'"),
        ("failure", {**OUTPUTS, "summary": "| ✅ | Login |"}, "the summary does not contain 'Checkout'"),
        ("failure", {**OUTPUTS, "summary": "Checkout <img src=x>"}, "the summary contains '<img'"),
        ("failure", {}, "output status is None, expected 'failed'"),
    ],
)
def test_checker_fails_on_a_mismatch(outcome: str, outputs: dict[str, str], problem: str) -> None:
    checked = run_checker(ENTRY, outcome, outputs)
    assert checked.returncode == 1
    assert f"::error title=e2e mixed::{problem}" in checked.stdout
