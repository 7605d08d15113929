"""`suiterun run`: the action as a command, for GitLab, Jenkins, CircleCI, a terminal, or a `run:` step.

Every action input is a long option of the same name. Secrets never are (a flag shows in process lists and shell
history): the API key comes from SUITERUN_API_KEY and the token for the pull request comment from GITHUB_TOKEN. Inside
GitHub Actions (GITHUB_ACTIONS=true) it reports exactly like the action; elsewhere it prints plain lines, and writes the
Markdown summary and the outputs (as JSON) to the files it is given.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from suiterun import __version__
from suiterun.interface import INPUTS, OUTPUTS

# Inputs that are secrets, and the environment variable each comes from instead of an option.
SECRET_INPUTS = {"api-key": "SUITERUN_API_KEY", "github-token": "GITHUB_TOKEN"}
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


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="suiterun", description="Run AI-driven test suites hosted by SaaS vendors, wait for the result, report it.")
    top.add_argument("--version", action="version", version=f"suiterun {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="run")
    run = commands.add_parser(
        "run",
        help="trigger the vendor's run, wait for it and report the result",
        description=(__doc__ or "").split("\n\n", 1)[1].replace("\n", " "),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for item in INPUTS:
        if item.name not in SECRET_INPUTS:
            required = " Required." if item.required else ""
            # action.yml's default, as GitHub would pass it; an expression (`${{ toJSON(matrix) }}`) means nothing here.
            default = "" if "${{" in item.default else item.default
            run.add_argument(
                f"--{item.name}",
                metavar=item.name.upper().replace("-", "_"),
                default=default,
                help=f"{item.description}{required}".replace("%", "%%"),
            )
    run.add_argument("--summary-file", type=Path, help="outside GitHub Actions: write the Markdown summary to this file")
    run.add_argument("--outputs-file", type=Path, help="outside GitHub Actions: write the outputs to this file as one JSON object")
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


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    args = parser().parse_args(argv)  # a usage error exits 2, like an input error
    from suiterun.main import execute  # noqa: PLC0415 - `--help` and `--version` need none of the engine
    from suiterun.workflow import GitHubContext, reporting_to  # noqa: PLC0415

    given = action_environ(args, environ)
    workflow = reporting_to(GitHubContext.from_environ(given), outputs_file=args.outputs_file, summary_file=args.summary_file)
    return int(execute(given, workflow))


if __name__ == "__main__":
    sys.exit(main())
