"""action.yml, documentation and code stay in step: every input is documented and read, every output documented and written."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from suiterun import cli
from suiterun.context import CIContext
from suiterun.inputs import Common, Inputs
from suiterun.outputs import step_outputs
from suiterun.registry import ADAPTERS, VENDOR_INPUTS
from suiterun.results import Outcome, RunStatus, Verdict
from suiterun.settings import Settings
from tests.contract import BASE_INPUTS
from tests.support import DOC_PAGES, ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The README holds the common inputs and outputs, docs/ the reporting and vendor-specific ones.
DOCUMENTATION = "\n".join(page.read_text(encoding="utf-8") for page in DOC_PAGES)
COMPOSITE = yaml.safe_load((ROOT / "composite/action.yml").read_text(encoding="utf-8"))


def test_action_has_marketplace_metadata() -> None:
    for key in ("name", "description", "author", "branding"):
        assert ACTION[key], key
    assert ACTION["runs"] == {"using": "docker", "image": "Dockerfile"}


@pytest.mark.parametrize("name", list(ACTION["inputs"]))
def test_input_is_described_and_documented(name: str) -> None:
    spec: dict[str, Any] = ACTION["inputs"][name]
    assert re.fullmatch(r"[a-z][a-z0-9-]*", name)
    assert spec["description"].strip()
    assert "default" in spec or spec.get("required"), f"{name}: give a default or mark it required"
    assert re.search(rf"^\| `{re.escape(name)}` \|", DOCUMENTATION, re.M), f"input {name} is in no table of the README or docs/"


class ReadingInputs(Inputs):
    """Inputs that remember the name of every input read."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(environ)
        object.__setattr__(self, "read", set())

    def given_value(self, name: str) -> str:
        self.read.add(name)  # type: ignore[attr-defined]
        return super().given_value(name)


def environ_of(vendor: str) -> dict[str, str]:
    given = {"vendor": vendor, "api-key": "sandbox-pass", "api-url": "https://vendor.example", **BASE_INPUTS[vendor]}
    return {f"INPUT_{name.upper()}": value for name, value in given.items()}


@pytest.mark.parametrize("vendor", list(ADAPTERS))
def test_every_input_an_adapter_declares_is_read_by_its_parse_options(vendor: str) -> None:
    inputs = ReadingInputs(environ_of(vendor))
    adapter = ADAPTERS[vendor]
    adapter.parse_options(inputs, Common("sandbox-pass", "https://vendor.example", allow_http=False, wait=True, context=CIContext(ROOT)))
    assert set(adapter.inputs) - inputs.read == set()  # type: ignore[attr-defined]


def test_every_input_no_adapter_owns_is_read_by_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    read: set[str] = set()
    plain = Inputs.given_value

    def reading(self: Inputs, name: str) -> str:
        read.add(name)
        return plain(self, name)

    monkeypatch.setattr(Inputs, "given_value", reading)
    for vendor in ADAPTERS:
        Settings.from_environ(environ_of(vendor), CIContext(ROOT))
    # api-key and github-token are read there too, and first of all by execute() to mask them.
    assert set(ACTION["inputs"]) - set(VENDOR_INPUTS) - read == set()


@pytest.mark.parametrize("name", list(ACTION["outputs"]))
def test_output_is_described_documented_and_written(name: str) -> None:
    assert ACTION["outputs"][name]["description"].strip()
    assert re.search(rf"^\| `{re.escape(name)}` \|", DOCUMENTATION, re.M), f"output {name} is in no table of the README or docs/"
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


@pytest.mark.io
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
