"""e2e-history.yml's last step: the three runs' outcomes and outputs, and the history file they left (stdlib only)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# (step, outcome, the outputs it must have)
EXPECTED = [
    ("BEFORE", "failure", {"status": "failed", "new-failures": "2", "known-failures": "0", "fixed": "0"}),
    ("AFTER", "failure", {"status": "failed", "new-failures": "1", "known-failures": "1", "fixed": "1"}),
    ("AGAIN", "success", {"status": "failed", "new-failures": "0", "known-failures": "2", "fixed": "0"}),
]


def problems() -> list[str]:
    found = []
    outcomes = os.environ["OUTCOMES"].split()
    for (step, outcome, expected), actual in zip(EXPECTED, outcomes, strict=True):
        outputs = json.loads(os.environ[step])
        if actual != outcome:
            found.append(f"{step.lower()}: the step's outcome is {actual}, expected {outcome}")
        found += [
            f"{step.lower()}: output {name} is {outputs.get(name)!r}, expected {value!r}"
            for name, value in expected.items()
            if outputs.get(name) != value
        ]
    summary = json.loads(os.environ["AFTER"]).get("summary", "")
    if "1 new failure · 1 known · 0 flaky · 1 fixed" not in summary:
        found.append("after: the summary does not say 1 new failure · 1 known · 0 flaky · 1 fixed")
    history = json.loads(Path("ci/history.json").read_text(encoding="utf-8"))
    if [run["status"] for run in history["runs"]] != ["failed", "failed", "failed"]:
        found.append(f"the history file holds {len(history['runs'])} runs, expected the three")
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"::error title=e2e history::{problem}")
    if not found:
        print("e2e history: as expected (2 new; then 1 new, 1 known, 1 fixed; then 2 known, the step passing)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
