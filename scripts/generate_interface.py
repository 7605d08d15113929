"""Generate, from the one source action.yml, the files that must list the same inputs and outputs:

- composite/action.yml: the composite variant, with the same inputs, defaults and outputs, which passes every input to
  the engine through `env:` exactly as the Docker action receives it (INPUT_<NAME>, hyphens kept);
- suiterun/interface.py: the inputs and outputs as Python data, for the `suiterun run` options and `--help`.

`python scripts/generate_interface.py` (`make generate`) writes them; `--check` exits 1 when one is stale (the tests run it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSITE = ROOT / "composite" / "action.yml"
INTERFACE = ROOT / "suiterun" / "interface.py"
HEADER = "GENERATED from action.yml by scripts/generate_interface.py (make generate); do not edit."

# The first Python 3.11+ on PATH (python3 may be a Microsoft Store stub on Windows runners) says where the environment
# goes and whether one is there; without one it says nothing, and the set-up step reports it.
FIND_SCRIPT = """\
for candidate in python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
    exec "$candidate" "$GITHUB_ACTION_PATH/install.py" --find
  fi
done
"""
# install.py reports its own failures; this one, no Python to run it, the same way: an error line, a job summary and
# status=error (the summary's form is install.py's `fail`).
SETUP_SCRIPT = """\
if [ -z "$SUITERUN_PYTHON" ]; then
  message="The composite variant needs Python 3.11 or later on the runner (python3 or python on PATH): add actions/setup-python before this step."
  summary=$(printf '## 🛑 suiterun: error\\n\\n%s' "$message")
  echo "::error title=suiterun set-up::$message"
  printf '%s\\n' "$summary" >>"$GITHUB_STEP_SUMMARY"
  printf 'status=error\\nsummary<<suiterun_summary\\n%s\\nsuiterun_summary\\n' "$summary" >>"$GITHUB_OUTPUT"
  exit 2
fi
exec "$SUITERUN_PYTHON" "$GITHUB_ACTION_PATH/install.py"
"""
# exec: the runner's SIGINT/SIGTERM on cancellation reaches Python, which still writes status=cancelled and the summary.
# -S and PYTHONPATH: the runner's own Python with the environment's packages, never an interpreter from the tool cache.
RUN_SCRIPT = 'exec "$SUITERUN_PYTHON" -S "$GITHUB_ACTION_PATH/../entrypoint.py"\n'
# The environment travels between jobs on GitHub-hosted runners (and under act, which reports no runner.environment)
# through the Actions cache; a self-hosted runner keeps its tool cache. A cache that fails never fails the step.
CACHE_ACTION = "actions/cache/{}@27d5ce7f107fe9357f9df03efb73ab90386fccae # v5.0.5"
CACHE_WITH = ["      with:", "        path: ${{ steps.find.outputs.folder }}", "        key: ${{ steps.find.outputs.cache-key }}"]
# What a failed set-up writes (install.py's `fail`): the action's output is the run step's, else the set-up's.
SETUP_OUTPUTS = ("status", "summary")


def quoted(text: str) -> str:
    """A YAML scalar that reads back as `text` (JSON strings are YAML)."""
    return json.dumps(text, ensure_ascii=False)


def composite(action: dict[str, Any]) -> str:
    lines = [
        f"# {HEADER}",
        "# The composite variant: the same action without Docker, for macOS, Windows and self-hosted runners",
        "# (docs/other-runners.md). It runs the engine from this checkout on the runner's Python, with the packages of a",
        "# virtual environment it keeps in the runner's tool cache and the Actions cache (composite/install.py).",
        f"name: {quoted(action['name'] + ' (composite)')}",
        f"description: {quoted(action['description'] + ' Without Docker: any runner with Python 3.11+.')}",
        f"author: {quoted(action['author'])}",
        "branding:",
        *(f"  {key}: {quoted(value)}" for key, value in action["branding"].items()),
        "",
        "inputs:",
    ]
    for name, spec in action["inputs"].items():
        lines += [f"  {name}:", f"    description: {quoted(spec['description'])}", f"    required: {'true' if spec.get('required') else 'false'}"]
        if "default" in spec:
            lines.append(f"    default: {quoted(str(spec['default']))}")
    lines += ["", "outputs:"]
    for name, spec in action["outputs"].items():
        value = f"steps.run.outputs['{name}']" + (f" || steps.setup.outputs['{name}']" if name in SETUP_OUTPUTS else "")
        lines += [f"  {name}:", f"    description: {quoted(spec['description'])}", f"    value: ${{{{ {value} }}}}"]
    lines += [
        "",
        "runs:",
        "  using: composite",
        "  steps:",
        "    - name: Find Python and the suiterun environment",
        "      id: find",
        "      shell: bash",
        "      run: |",
        *(f"        {line}" for line in FIND_SCRIPT.splitlines()),
        "    - name: Restore the suiterun environment from the Actions cache",
        "      id: restore",
        "      if: steps.find.outputs.ready == 'false' && runner.environment != 'self-hosted'",
        "      continue-on-error: true",
        f"      uses: {CACHE_ACTION.format('restore')}",
        *CACHE_WITH,
        "    - name: Set up suiterun (a virtual environment in the tool cache, reused when it passes its check)",
        "      id: setup",
        "      shell: bash",
        "      env:",
        "        SUITERUN_PYTHON: ${{ steps.find.outputs.python }}",
        "        SUITERUN_RESTORED: ${{ steps.restore.outputs.cache-hit }}",
        "      run: |",
        *(f"        {line}" for line in SETUP_SCRIPT.splitlines()),
        "    - name: Save the suiterun environment to the Actions cache",
        "      id: save",
        "      if: steps.setup.outputs.built == 'true' && runner.environment != 'self-hosted'",
        "      continue-on-error: true",
        f"      uses: {CACHE_ACTION.format('save')}",
        *CACHE_WITH,
        "    - name: Run the tests",
        "      id: run",
        "      shell: bash",
        "      env:",
        "        SUITERUN_PYTHON: ${{ steps.setup.outputs.python }}",
        "        PYTHONPATH: ${{ steps.setup.outputs.packages }}",
        *(f"        INPUT_{name.upper()}: ${{{{ inputs['{name}'] }}}}" for name in action["inputs"]),
        f"      run: {RUN_SCRIPT.strip()}",
    ]
    return "\n".join(lines) + "\n"


def interface(action: dict[str, Any]) -> str:
    inputs = "\n".join(
        f"    Input({quoted(name)}, {quoted(spec['description'])}, {quoted(str(spec.get('default', '')))}, {bool(spec.get('required'))}),"
        for name, spec in action["inputs"].items()
    )
    outputs = "\n".join(f"    Output({quoted(name)}, {quoted(spec['description'])})," for name, spec in action["outputs"].items())
    return f'''"""The action's inputs and outputs. {HEADER}"""

from __future__ import annotations

from typing import NamedTuple


class Input(NamedTuple):
    name: str
    description: str
    default: str  # as action.yml writes it; `${{{{ ... }}}}` is evaluated by GitHub
    required: bool


class Output(NamedTuple):
    name: str
    description: str


INPUTS: tuple[Input, ...] = (
{inputs}
)

OUTPUTS: tuple[Output, ...] = (
{outputs}
)
'''


def generated() -> dict[Path, str]:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return {COMPOSITE: composite(action), INTERFACE: interface(action)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a generated file is not up to date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            stale.append(path.relative_to(ROOT).as_posix())
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"Stale, regenerate with `make generate`: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
