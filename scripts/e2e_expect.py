"""One e2e.yml matrix entry: its inputs for the action step, and the check of what the step did (stdlib only: the job runs
the runner's python3).

`e2e_expect.py inputs` writes the action's inputs for the entry to GITHUB_OUTPUT: the entry's `inputs`, `vendor` and
`key` (as api-key), over the defaults below (api-url: the sandbox at SANDBOX for the vendor; allow-http when SANDBOX
is not a loopback address). The workflow passes each
as `${{ steps.inputs.outputs[<name>] }}`, so one `with:` block serves every entry.

`e2e_expect.py` (no argument) checks the step. It reads from the environment: ENTRY (the matrix entry as JSON), OUTCOME
(steps.<id>.outcome) and OUTPUTS (the step's outputs as JSON). An entry may expect:
  outcome: success | failure                 the step's outcome (failure = the action exited non-zero)
  expect: {output-name: value, ...}          exact output values, e.g. {status: failed, failed: "1"}
  summary: [text, ...]                       texts the `summary` output (the job summary) must contain
  not-in-summary: [text, ...]                texts it must not contain
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from typing import Any
from urllib.parse import urlsplit

DEFAULTS = {"poll-interval": "1s", "timeout": "2m"}


def entry_inputs(entry: dict[str, Any], sandbox: str) -> dict[str, str]:
    # A sandbox announced at the machine's own address (not loopback) is plain http across the Docker bridge.
    local = urlsplit(sandbox).hostname in ("127.0.0.1", "localhost", "::1")
    defaults = {**DEFAULTS, "api-url": f"{sandbox}/{entry['vendor']}", "allow-http": "false" if local else "true"}
    given = {name: str(value) for name, value in (entry.get("inputs") or {}).items()}
    return {**defaults, **given, "vendor": entry["vendor"], "api-key": entry["key"]}


def write_inputs(entry: dict[str, Any], sandbox: str, output: str) -> None:
    with open(output, "a", encoding="utf-8") as file:
        for name, value in entry_inputs(entry, sandbox).items():
            delimiter = f"EOF_{secrets.token_hex(8)}"
            file.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def problems(entry: dict[str, Any], outcome: str, outputs: dict[str, str]) -> list[str]:
    found = []
    if outcome != entry["outcome"]:
        found.append(f"step outcome is {outcome!r}, expected {entry['outcome']!r}")
    for name, value in (entry.get("expect") or {}).items():
        if outputs.get(name) != str(value):
            found.append(f"output {name} is {outputs.get(name)!r}, expected {str(value)!r}")
    summary = outputs.get("summary", "")
    found += [f"the summary does not contain {text!r}" for text in entry.get("summary") or [] if text not in summary]
    found += [f"the summary contains {text!r}" for text in entry.get("not-in-summary") or [] if text in summary]
    return found


def main() -> int:
    entry = json.loads(os.environ["ENTRY"])
    if sys.argv[1:] == ["inputs"]:
        write_inputs(entry, os.environ["SANDBOX"], os.environ["GITHUB_OUTPUT"])
        return 0
    outputs = json.loads(os.environ.get("OUTPUTS") or "{}")
    found = problems(entry, os.environ["OUTCOME"], outputs)
    for problem in found:
        print(f"::error title=e2e {entry['name']}::{problem}")
    if found:
        print(outputs.get("summary", "(no summary output)"))
        return 1
    print(f"{entry['name']}: outcome {entry['outcome']}, status {outputs.get('status')}, as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
