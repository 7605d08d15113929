"""action.yml, README and code stay in step: every input is documented and read, every output documented and written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from suiterun import cli
from suiterun.inputs import Inputs
from suiterun.outputs import step_outputs
from suiterun.results import Outcome, RunStatus, Verdict
from tests.support import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The engine and the adapters, not the generated list of inputs (suiterun/interface.py), must read each input.
CODE = "\n".join(
    path.read_text(encoding="utf-8") for folder in ("suiterun", "vendors") for path in (ROOT / folder).glob("*.py") if path.name != "interface.py"
)
COMPOSITE = yaml.safe_load((ROOT / "composite/action.yml").read_text(encoding="utf-8"))


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
    # By tag, so `docker build .` works anywhere; the release builds on the digest base.Dockerfile pins (test_release.py).
    assert re.fullmatch(r"FROM python:3\.1[3-9]-slim", dockerfile.splitlines()[1])
    assert 'ENTRYPOINT ["python", "/action/entrypoint.py"]' in dockerfile
    assert "USER" not in dockerfile and "WORKDIR" not in dockerfile
    assert dockerfile.index("requirements.txt") < dockerfile.index("COPY suiterun")


def test_readme_names_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in Path(ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_generated_files_are_up_to_date() -> None:
    checked = subprocess.run([sys.executable, str(ROOT / "scripts/generate_interface.py"), "--check"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_the_composite_variant_has_the_same_inputs_defaults_and_outputs() -> None:
    assert COMPOSITE["inputs"] == ACTION["inputs"]
    assert {name: spec["description"] for name, spec in COMPOSITE["outputs"].items()} == {
        name: spec["description"] for name, spec in ACTION["outputs"].items()
    }
    # Each is the run step's; status and summary fall back to the set-up step's, which writes them when it fails.
    fallback = {"status", "summary"}
    assert {
        name: spec["value"].removeprefix(f"${{{{ steps.run.outputs['{name}']").removesuffix(" }}") for name, spec in COMPOSITE["outputs"].items()
    } == {name: f" || steps.setup.outputs['{name}']" if name in fallback else "" for name in ACTION["outputs"]}


def test_the_composite_variant_passes_inputs_only_through_env_and_execs_python() -> None:
    steps = COMPOSITE["runs"]["steps"]
    assert all("${{" not in step.get("run", "") for step in steps), "an expression in a run: script is a script injection"
    run = next(step for step in steps if step["id"] == "run")
    assert run["run"].startswith('exec "$SUITERUN_PYTHON" -S ')  # so cancellation's signal reaches Python
    assert {name: value for name, value in run["env"].items() if name.startswith("INPUT_")} == {
        f"INPUT_{name.upper()}": f"${{{{ inputs['{name}'] }}}}" for name in ACTION["inputs"]
    }


def test_the_command_gives_the_engine_what_github_gives_the_action() -> None:
    """`suiterun run` with only --vendor: the engine reads every input at action.yml's default (an expression means
    empty), the secrets from their variables, and no INPUT_* of the surrounding environment."""
    args = cli.parser().parse_args(["run", "--vendor", "autosana"])
    given = Inputs(cli.action_environ(args, {"SUITERUN_API_KEY": "key", "INPUT_TIMEOUT": "1s", "CI": "true"}))
    defaults = {name: "" if "${{" in str(spec.get("default", "")) else str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    assert {name: given.get(name) for name in ACTION["inputs"]} == defaults | {"vendor": "autosana", "api-key": "key"}


@pytest.mark.parametrize("name", [name for name, spec in ACTION["inputs"].items() if str(spec.get("default", ""))])
def test_an_input_passed_empty_reads_as_its_default_like_one_left_unset(name: str) -> None:
    default = str(ACTION["inputs"][name]["default"])
    expected = "" if "${{" in default else default
    assert Inputs({f"INPUT_{name.upper()}": ""}).get(name) == Inputs({}).get(name) == expected
