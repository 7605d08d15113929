"""`suiterun run`: the action as a command, for GitLab, Jenkins, CircleCI, a terminal, or a `run:` step.

Every action input is a long option of the same name. Secrets never are (a flag shows in process lists and shell
history): the API key comes from SUITERUN_API_KEY and the token for the pull request comment from GITHUB_TOKEN. Inside
GitHub Actions (GITHUB_ACTIONS=true) it reports exactly like the action; elsewhere it prints plain lines, and writes the
Markdown summary and the outputs (as JSON) to the files it is given.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from suiterun import __version__
from suiterun.interface import INPUTS, OUTPUTS

if TYPE_CHECKING:
    from suiterun.clock import Clock

# Inputs that are secrets, and the environment variable each comes from instead of an option.
SECRET_INPUTS = {"api-key": "SUITERUN_API_KEY", "github-token": "GITHUB_TOKEN"}
# Advice the engine writes for a workflow file, as a user of the command follows it.
COMMAND_ADVICE = {
    "pass the vendor's API key from a secret, e.g. api-key: ${{ secrets.VENDOR_API_KEY }}": (
        "set it to the vendor's API key, from your CI's secret variables"
    ),
    "pass a token that may write pull request comments, e.g. github-token: ${{ github.token }}": (
        "set it to a token that may write pull request comments, e.g. env: GITHUB_TOKEN: ${{ github.token }} on the step"
    ),
    "give every step its own file, e.g. reports/${{ matrix.app }}-results": "give every run its own file, or remove the old one first",
    "set allow-http: true": "pass --allow-http true",
}
# The command's own options for its files (outside GitHub Actions), checked like the action's report files.
COMMAND_FILES = ("summary-file", "outputs-file")
_QUOTED_NAME = re.compile("'(" + "|".join(re.escape(name) for name in [*(item.name for item in INPUTS), *COMMAND_FILES]) + ")'")
_INPUT_BEFORE_OPTION = re.compile(r"\b([Ii])nput(s?) (?=--)")
_INPUT_BEFORE_VARIABLE = re.compile(r"\b([Ii])nput (?=(?:" + "|".join(SECRET_INPUTS.values()) + r")\b)")
EPILOG = f"""\
environment:
  SUITERUN_API_KEY   the vendor's API key (required)
  GITHUB_TOKEN       token for the pull request comment (only with --comment, inside GitHub Actions)

outputs (in --outputs-file as one JSON object; in GITHUB_OUTPUT inside GitHub Actions):
  {", ".join(output.name for output in OUTPUTS)}

exit codes:
  0  passed, triggered or uploaded (or --fail-on lets the run pass)
  1  the run failed by --fail-on: failed tests, or cancelled
  2  a usage or input error (nothing was triggered)
  3  a vendor, network or timeout error

Relative paths (--junit-file, --ctrf-file, --summary-template, --build-path, ...) are relative to the current folder
(to GITHUB_WORKSPACE inside GitHub Actions). Documentation: https://github.com/suiterun/ai-test-suites#readme
"""


class _Parser(argparse.ArgumentParser):
    """argparse that never repeats a value it was given: a misplaced or misspelt argument may be a key."""

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            options = [token.split("=", 1)[0] for token in extras if token.startswith("-")]
            values = len(extras) - len(options)
            shown = ", ".join([*options, *([f"{values} value{'s' if values > 1 else ''} (not shown)"] if values else [])])
            self.error(f"unrecognized arguments: {shown}")
        return parsed

    def error(self, message: str) -> NoReturn:
        if "invalid choice: " in message:  # a command that is not one: say which are, not what was typed
            message = "unknown command; the command is: run"
        super().error(message)


class _RefuseSecret(argparse.Action):
    """A secret given as an option is refused without repeating it, pointing to its environment variable."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None) -> None:
        variable = SECRET_INPUTS[self.dest.replace("_", "-")]
        parser.error(
            f"{option_string} is not an option: a secret on the command line shows in process lists and shell history; set {variable} instead"
        )


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="suiterun", description="Run AI-driven test suites hosted by SaaS vendors, wait for the result, report it.", allow_abbrev=False
    )
    top.add_argument("--version", action="version", version=f"suiterun {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="run", parser_class=_Parser)
    run = commands.add_parser(
        "run",
        help="trigger the vendor's run, wait for it and report the result",
        description=(__doc__ or "").split("\n\n", 1)[1].replace("\n", " "),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="suiterun run --vendor VENDOR [--OPTION VALUE ...]  (suiterun run --help lists every option)",
        allow_abbrev=False,  # `--api` must not stand for an option (nor `--api-k` for --api-key)
    )
    for name in SECRET_INPUTS:
        run.add_argument(f"--{name}", nargs="?", action=_RefuseSecret, help=argparse.SUPPRESS)
    for item in INPUTS:
        if item.name not in SECRET_INPUTS:
            required = " Required." if item.required else ""
            run.add_argument(
                f"--{item.name}",
                metavar=item.name.upper().replace("-", "_"),
                default="",  # the engine reads an empty input as action.yml's default
                help=f"{item.description}{required}".replace("%", "%%"),
            )
    run.add_argument("--summary-file", default="", help="outside GitHub Actions: write the Markdown summary to this new file")
    run.add_argument("--outputs-file", default="", help="outside GitHub Actions: write the outputs to this new file as one JSON object")
    run.add_argument(
        "--verbose",
        action="store_true",
        help="print a debug line for every HTTP request: method, host and path, status, time, bytes and the start of the answer, "
        "credentials taken out (inside GitHub Actions, debug logging does the same)",
    )
    return top


def action_environ(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, str]:
    """What the action would receive: INPUT_<NAME> for every input (the option, else its default; the secrets from their
    variables), over the environment."""
    inputs = {f"INPUT_{name.upper()}": environ.get(variable, "") for name, variable in SECRET_INPUTS.items()}
    for item in INPUTS:
        if item.name not in SECRET_INPUTS:
            inputs[f"INPUT_{item.name.upper()}"] = getattr(args, item.name.replace("-", "_"))
    # INPUT_* variables of the environment (a step of another action) must not leak in as options.
    return {**{name: value for name, value in environ.items() if not name.startswith("INPUT_")}, **inputs}


def in_command_terms(message: str) -> str:
    """An input error as a user of the command reads it: the options and environment variables they set, not the
    action's inputs (`Input 'timeout'` is `Option --timeout`; `Input 'api-key'`, `The environment variable SUITERUN_API_KEY`)."""
    for advice, for_command in COMMAND_ADVICE.items():
        message = message.replace(advice, for_command)
    message = _QUOTED_NAME.sub(lambda match: SECRET_INPUTS.get(match[1]) or f"--{match[1]}", message)
    message = _INPUT_BEFORE_OPTION.sub(lambda match: f"{'O' if match[1] == 'I' else 'o'}ption{match[2]} ", message)
    return _INPUT_BEFORE_VARIABLE.sub(lambda match: f"{'T' if match[1] == 'I' else 't'}he environment variable ", message)


def output_files(args: argparse.Namespace, workspace: Path) -> dict[str, Path | None]:
    """--summary-file and --outputs-file, by the rules of junit-file: relative, inside the folder, new, not the same
    file; checked before anything is triggered (InputError, in command terms)."""
    from suiterun.errors import InputError  # noqa: PLC0415 - `--help` and `--version` need none of the engine
    from suiterun.inputs import parse_workspace_path  # noqa: PLC0415
    from suiterun.reports import check_not_written_yet  # noqa: PLC0415

    files = {}
    for name in COMMAND_FILES:
        files[name] = check_not_written_yet(name, parse_workspace_path(name, getattr(args, name.replace("-", "_")), workspace), workspace)
    summary, outputs = files.values()
    if summary is not None and summary == outputs:
        raise InputError(f"Inputs 'summary-file' and 'outputs-file' name the same file '{summary.as_posix()}'; give each its own path.")
    return {name: workspace / path if path else None for name, path in files.items()}


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ, *, clock: Clock | None = None) -> int:
    command = parser()
    args = command.parse_args(argv)  # a usage error exits 2, like an input error
    from suiterun.context import CIContext  # noqa: PLC0415 - `--help` and `--version` need none of the engine
    from suiterun.errors import InputError  # noqa: PLC0415
    from suiterun.main import execute  # noqa: PLC0415
    from suiterun.workflow import reporting_to  # noqa: PLC0415

    given = action_environ(args, environ)
    context = CIContext.from_environ(given)
    try:
        files = output_files(args, context.workspace)
    except InputError as exc:
        command.error(in_command_terms(str(exc)))
    workflow = reporting_to(context, verbose=args.verbose, outputs_file=files["outputs-file"], summary_file=files["summary-file"])
    return int(execute(given, workflow, clock=clock, phrase=in_command_terms))


if __name__ == "__main__":
    sys.exit(main())
