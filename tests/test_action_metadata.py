"""action.yml, README and code stay in step: every input is documented and read, every output documented and written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from suiterun.main import step_outputs
from suiterun.results import Outcome, RunStatus, Verdict
from tests.support import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
CODE = "\n".join(path.read_text(encoding="utf-8") for folder in ("suiterun", "vendors") for path in (ROOT / folder).glob("*.py"))


def test_action_has_marketplace_metadata() -> None:
    for key in ("name", "description", "author", "branding"):
        assert ACTION[key], key
    assert ACTION["runs"] == {"using": "docker", "image": "Dockerfile"}


@pytest.mark.parametrize("name", list(ACTION["inputs"]))
def test_input_is_described_documented_and_read(name: str) -> None:
    spec: dict[str, Any] = ACTION["inputs"][name]
    assert re.fullmatch(r"[a-z][a-z0-9-]*", name)
    assert spec["description"].strip()
    assert "default" in spec or spec.get("required"), f"{name}: give a default or mark it required"
    assert re.search(rf"^\| `{re.escape(name)}` \|", README, re.M), f"input {name} is not in a README table"
    assert f'"{name}"' in CODE, f"input {name} is never read by the code"


@pytest.mark.parametrize("name", list(ACTION["outputs"]))
def test_output_is_described_documented_and_written(name: str) -> None:
    assert ACTION["outputs"][name]["description"].strip()
    assert re.search(rf"^\| `{re.escape(name)}` \|", README, re.M), f"output {name} is not in a README table"
    written = step_outputs(Outcome("Vendor", Verdict(RunStatus.PASSED, "ok")), "summary")
    assert name in written, f"output {name} is never written"


def test_dockerfile_follows_house_style() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.splitlines()[1] == "FROM python:3.13-slim"
    assert 'ENTRYPOINT ["python", "/action/entrypoint.py"]' in dockerfile
    assert "USER" not in dockerfile and "WORKDIR" not in dockerfile
    assert dockerfile.index("requirements.txt") < dockerfile.index("COPY suiterun")


def test_readme_names_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in Path(ROOT / ".ci" / "run").read_text(encoding="utf-8")
