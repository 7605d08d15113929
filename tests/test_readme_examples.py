"""Every workflow example in the README and docs/ runs against the sandbox as written (docs/sandbox.md).

A step that `uses:` the action is run with its `with:` inputs, after the defaults of action.yml, with api-url
pointed at the sandbox and each `${{ }}` expression given the value a workflow would: secrets hold sandbox keys.
A Jinja block whose first line names a file (`{# path #}`) is written there first, as a user would commit it.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.scenarios import FAULTS, SCRIPTS
from sandbox.server import SandboxServer
from suiterun import cli
from suiterun.registry import ADAPTERS
from tests.support import DOC_PAGES, ROOT, FakeClock, run_in_process, sandbox_url

DOCUMENTATION = "\n".join(page.read_text(encoding="utf-8") for page in DOC_PAGES)
ACTION_INPUTS: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"]
USES = re.compile(r"suiterun/ai-test-suites(/composite)?@")
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
# What each expression in the examples stands for in a workflow; a new one must be added here.
VALUES = {
    "github.event.number": "17",
    "github.head_ref": "feature/login",
    "github.token": "ghs_exampleToken0123456789",
    "toJSON(matrix)": "null",
    "matrix.app": "ios",
    "secrets.TESTLAB_COOKIES": '[{"name": "session", "value": "sandbox-cookie", "domain": ".shop.example"}]',
}


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", DOCUMENTATION, re.M | re.S)


def action_steps(node: Any, matrix: dict[str, Any]) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """The `with:` inputs of every step in a parsed YAML block that uses the action, once per matrix entry of its job."""
    if isinstance(node, dict):
        entries = ((node.get("strategy") or {}).get("matrix") or {}).get("include")
        if entries:
            return [found for entry in entries for found in action_steps({**node, "strategy": {}}, entry)]
        found = [({name: str(value) for name, value in node["with"].items()}, matrix)] if USES.match(str(node.get("uses", ""))) else []
        return found + [step for value in node.values() for step in action_steps(value, matrix)]
    if isinstance(node, list):
        return [step for item in node for step in action_steps(item, matrix)]
    return []


def evaluate(text: str, matrix: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if re.fullmatch(r"secrets\.\w+_API_KEY|secrets\[matrix\.\w+\]", expression):
            return "sandbox-pass"
        if expression.startswith("matrix.") and expression not in VALUES:
            return str(matrix.get(expression.removeprefix("matrix."), ""))  # a missing field is empty, as in GitHub
        assert expression in VALUES, f"An example uses ${{{{ {expression} }}}}: give it a value in VALUES"
        return VALUES[expression]

    return EXPRESSION.sub(value, text)


EXAMPLES = [step for block in blocks("yaml") for step in action_steps(yaml.safe_load(block), {})]


def built(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"a build the job made")


def test_the_documentation_has_an_example_for_every_vendor() -> None:
    vendors = {evaluate(given["vendor"], matrix) for given, matrix in EXAMPLES}
    assert vendors == set(ADAPTERS)


@pytest.mark.parametrize(("given", "matrix"), EXAMPLES, ids=lambda value: "-".join(sorted(value))[:60] if value else "")
def test_a_documented_example_runs_against_the_sandbox(given: dict[str, str], matrix: dict[str, Any], sandbox: SandboxServer, tmp_path: Path) -> None:
    for template in blocks("jinja"):
        first = template.splitlines()[0]
        if named := re.fullmatch(r"\{#\s*(\S+)\s*#\}", first):
            (tmp_path / named.group(1)).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / named.group(1)).write_text(template, encoding="utf-8")
    defaults = {name: str(spec.get("default", "")) for name, spec in ACTION_INPUTS.items()}
    inputs = {name: evaluate(value, matrix) for name, value in (defaults | given).items()}
    if inputs["build-path"]:  # the build step before it produced the file
        built(tmp_path / inputs["build-path"])
    inputs["api-url"] = sandbox_url(sandbox, inputs["vendor"])
    run = run_in_process(tmp_path, inputs, server=sandbox)
    assert run.exit_code == 0, run.log
    assert run.outputs["status"] in ("passed", "triggered", "uploaded"), run.log


SANDBOX_GUIDE = (ROOT / "docs/sandbox.md").read_text(encoding="utf-8")


def test_the_sandbox_guide_lists_every_scenario_and_fault() -> None:
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", SANDBOX_GUIDE, re.M))
    assert listed == set(SCRIPTS) | set(FAULTS)


def test_the_sandbox_guide_gives_each_scenarios_number_of_tests() -> None:
    counts = {name: int(count) for name, count in re.findall(r"^\| `([a-z0-9-]+)` \| ([0-9]+) \|", SANDBOX_GUIDE, re.M)}
    assert counts == {name: len(script.tests) for name, script in SCRIPTS.items()}


def command_lines() -> list[list[str]]:
    """The arguments after `suiterun run` of every command in the shell, PowerShell, YAML and Groovy blocks."""
    text = "\n".join(blocks("sh") + blocks("powershell") + blocks("yaml") + blocks("groovy")).replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        if "suiterun run --" in line:
            command = line.split("suiterun run", 1)[1].split("'")[0]  # a Groovy sh '...' ends at its quote
            args = shlex.split(command, comments=True)
            if args not in found:  # the same command in the shell, GitLab and Jenkins examples: once
                found.append(args)
    return found


COMMANDS = command_lines()


def test_the_documentation_shows_the_command() -> None:
    assert len(COMMANDS) >= 3


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args)[:60])
def test_a_documented_command_runs_against_the_sandbox(
    args: list[str], sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor = args[args.index("--vendor") + 1]
    sandbox.reset()
    monkeypatch.chdir(tmp_path)  # as a CI job runs it: paths are relative to the current folder
    if "--build-path" in args:
        built(tmp_path / args[args.index("--build-path") + 1])
    environ = {"PATH": os.environ["PATH"], "SUITERUN_API_KEY": "sandbox-pass"}
    code = cli.main(["run", *args, "--api-url", sandbox_url(sandbox, vendor), "--poll-interval", "1s"], environ, clock=FakeClock())
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert not [line for line in printed.splitlines() if line.startswith("::")]
