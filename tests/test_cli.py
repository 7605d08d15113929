"""`suiterun run` as a user of a terminal, GitLab or Jenkins meets it: its own terms in every error, no secret echoed,
its files checked before anything is triggered, and nothing printed that a terminal would act on."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from suiterun import cli
from suiterun.registry import ADAPTERS, VENDOR_INPUTS
from tests.hostile import Answer, autosana, batch, hostile_server
from tests.support import FakeClock, sandbox_url
from tests.test_inputs import BAD_INPUTS, VALID

KEY = "sk_live_do_not_print_7f3a"


def command(
    args: list[str], capsys: pytest.CaptureFixture[str], *, environ: Mapping[str, str] | None = None, key: str = "sandbox-pass"
) -> tuple[int, str]:
    """Run `suiterun run ARGS` outside GitHub Actions; its exit code and all it printed (stdout and stderr)."""
    given = {"PATH": os.environ.get("PATH", ""), **({"SUITERUN_API_KEY": key} if key else {}), **(environ or {})}
    try:
        code = cli.main(["run", *args], given, clock=FakeClock())
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    printed = capsys.readouterr()
    return code, printed.out + printed.err


# --- A secret is never an option, and never echoed ---


@pytest.mark.parametrize(
    "args",
    [
        ["--vendor", "aiva", "--api-key", KEY],
        ["--vendor", "aiva", f"--api-key={KEY}"],
        ["--vendor", "aiva", "--github-token", KEY],
        ["--vendor", "aiva", "--apikey", KEY],  # misspelt: unknown
        ["--vendor", "aiva", "--api", KEY],  # abbreviated: not an abbreviation of --api-key or --api-url
        ["--vendor", "aiva", KEY],  # a stray value
    ],
    ids=["api-key", "api-key=", "github-token", "misspelt", "abbreviated", "stray"],
)
def test_a_key_on_the_command_line_is_refused_without_printing_it(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, printed = command(args, capsys)
    assert code == 2 and KEY not in printed and "do_not_print" not in printed, printed
    assert printed.count("\n") <= 4  # the short usage line and one error, not every option


def test_the_refusal_points_to_the_environment_variable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    _, printed = command(["--vendor", "aiva", "--api-key", KEY], capsys)
    assert "error: --api-key is not an option: a secret on the command line shows in process lists and shell history; set SUITERUN_API_KEY" in printed


# --- Errors in the command's own terms ---


def test_a_missing_key_names_its_environment_variable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    code, printed = command(["--vendor", "aiva", "--tests", "t-1"], capsys, key="")
    assert code == 2
    assert "error: The environment variable SUITERUN_API_KEY is required: set it to the vendor's API key, from your CI's secret variables." in printed
    assert "${{" not in printed and "api-key" not in printed


def test_a_comment_outside_github_actions_is_an_input_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, printed = command(["--vendor", "aiva", "--tests", "t-1", "--comment", "always"], capsys, environ={"GITHUB_TOKEN": "ghs_token_123456"})
    assert code == 2, printed
    assert "error: Option --comment is 'always', but this is not a GitHub Actions job, so there is no pull request to comment on" in printed


def test_a_comment_without_a_token_inside_github_actions_names_github_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    inside = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(tmp_path)}
    code, printed = command(["--vendor", "aiva", "--tests", "t-1", "--comment", "always"], capsys, environ=inside)
    assert code == 2
    assert "The environment variable GITHUB_TOKEN is empty but option --comment is 'always': set it to a token that may write" in printed


def _as_options(inputs: Mapping[str, str]) -> tuple[list[str], str]:
    args = [part for name, value in inputs.items() if name != "api-key" for part in (f"--{name}", value)]
    return args, inputs.get("api-key", "sandbox-pass")


FOREIGN = [(vendor, name) for vendor, adapter in ADAPTERS.items() for name in VENDOR_INPUTS if name not in adapter.inputs][:12]


@pytest.mark.parametrize(
    "inputs",
    [{**VALID, **change} for change, _ in BAD_INPUTS] + [{"vendor": vendor, name: "x"} for vendor, name in FOREIGN],
    ids=lambda value: str(value)[:60],
)
def test_every_input_error_speaks_of_options_and_variables(
    inputs: dict[str, str], sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    args, key = _as_options({"api-url": sandbox_url(sandbox, inputs["vendor"] or "aiva"), **inputs})
    code, printed = command(args, capsys, key=key)
    assert code == 2, printed
    error = next(line for line in printed.splitlines() if line.startswith("Error: "))
    assert "nput '" not in error and "nputs '" not in error and "${{" not in error, error
    assert "--" in error or "SUITERUN_API_KEY" in error or "Autosana needs" in error, error


# --- --summary-file and --outputs-file: checked before anything is triggered ---


@pytest.mark.parametrize(
    ("files", "error"),
    [
        ({"--summary-file": "/tmp/summary.md"}, "Option --summary-file must be a path relative to the workspace"),
        (
            {"--outputs-file": "../outputs.json"},
            "Option --outputs-file must name a file inside the workspace, but '../outputs.json' leads outside it",
        ),
        ({"--summary-file": "link.md"}, "Option --summary-file must name a file inside the workspace, but 'link.md' leads outside it"),
        ({"--outputs-file": "old.json"}, "Option --outputs-file: 'old.json' already exists"),
        ({"--summary-file": "reports"}, "Option --summary-file: 'reports' already exists"),
        ({"--summary-file": "r.md", "--outputs-file": "./r.md"}, "Options --summary-file and --outputs-file name the same file 'r.md'"),
    ],
    ids=["absolute", "outside", "symlink-outside", "existing", "directory", "same"],
)
def test_a_file_option_that_breaks_the_rules_stops_before_any_request(
    files: dict[str, str], error: str, sandbox: SandboxServer, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.reset()
    args = ["--vendor", "aiva", "--tests", "t-1", "--api-url", sandbox_url(sandbox, "aiva"), *[part for item in files.items() for part in item]]
    code, printed = command(args, capsys)
    assert code == 2 and error in printed, printed
    assert sandbox.requests == [] and not (workspace.parent / "outside.md").exists()
    assert (workspace / "old.json").read_text(encoding="utf-8") == "{}"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The job's folder (the current one), holding a dangling symlink to a file outside, an earlier file and a folder."""
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "link.md").symlink_to(tmp_path / "outside.md")  # writing it would create the file outside
    (folder / "old.json").write_text("{}", encoding="utf-8")
    (folder / "reports").mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_the_files_are_written_in_folders_created_for_them(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    sandbox.reset()
    args = [
        "--vendor",
        "aiva",
        "--tests",
        "t-1",
        "--api-url",
        sandbox_url(sandbox, "aiva"),
        "--summary-file",
        "out/s.md",
        "--outputs-file",
        "out/o.json",
    ]
    code, printed = command(args, capsys)
    assert code == 0, printed
    assert json.loads((tmp_path / "out/o.json").read_text(encoding="utf-8"))["status"] == "passed"
    assert "passed" in (tmp_path / "out/s.md").read_text(encoding="utf-8")


# --- Nothing printed that a terminal acts on ---

# A window title, an OSC 8 link, an OSC 52 clipboard write, clear screen and cursor home, a C1 CSI, backspaces, bell, NUL.
CONTROLS = (
    "\x1b]0;pwned title\x07 \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ \x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07 "
    "\x1b[2J\x1b[H \x9b31m \x08\x08 \x07 \x00"
)


def test_control_characters_from_the_vendor_never_reach_the_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    finished = Answer(body=batch([("Login" + CONTROLS, "failed", "Timed out" + CONTROLS)]))
    with hostile_server(autosana(status=finished)) as vendor:
        code, printed = command(["--vendor", "autosana", "--app-id", "web", "--suites", "s-1", "--api-url", vendor.url], capsys, key=KEY)
    assert code == 1, printed
    assert "Login" in printed and "Timed out" in printed
    controls = sorted({hex(ord(char)) for char in printed if (ord(char) < 0x20 and char not in "\n\t") or 0x7F <= ord(char) <= 0x9F})
    assert controls == [], controls
    assert "\u241b]0;pwned title\u2407" in printed  # shown, harmless
