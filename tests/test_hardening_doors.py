"""Regression tests for the defects found by attacking the doors added after the first round: the command line, the
inputs it shares with the action, and what the command prints. (The upload's are in test_upload.py, the composite
set-up's in test_composite.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import run_in_process

DEEP = "[" * 20_000 + "]" * 20_000


@pytest.mark.parametrize(
    ("vendor", "inputs", "name"),
    [
        ("autosana", {"app-id": "web", "suites": "s-1", "dependencies": DEEP}, "dependencies"),
        ("autosana", {"app-id": "web", "suites": "s-1", "variables": '{"a":' * 20_000 + "1" + "}" * 20_000}, "variables"),
        ("aiva", {"labels": "smoke", "variables-per-test": '{"t": ' + DEEP + "}"}, "variables-per-test"),
        ("kapptivate", {"api-url": "https://acme.kapptivate.com", "tests": "1", "devices": '{"d": ' + DEEP + "}"}, "devices"),
        ("test-lab", {"project-id": "7", "cookies": DEEP}, "cookies"),
        ("aiva", {"tests": "t-1", "matrix": '{"os": ' + DEEP + "}"}, "matrix"),
        ("test-lab", {"project-id": "7", "cookies": "[" * 17 + "]" * 17}, "cookies"),  # deep enough to refuse, shallow enough to parse
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else "",
)
def test_deeply_nested_json_is_an_input_error_naming_the_input(vendor: str, inputs: dict[str, str], name: str, tmp_path: Path) -> None:
    run = run_in_process(tmp_path, {"vendor": vendor, "api-key": "sandbox-pass", **inputs})
    assert (run.exit_code, run.outputs["status"]) == (2, "error"), run.log
    assert f"Input '{name}' is nested more than 16 levels deep" in run.log and "Internal error" not in run.log
    assert f"Input '{name}' is nested more than 16 levels deep" in run.summary
