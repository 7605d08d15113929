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

# Find a Python 3.11+ (python3 may be a Microsoft Store stub on Windows runners), then set up or reuse the venv.
SETUP_SCRIPT = """\
for candidate in python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
    exec "$candidate" "$GITHUB_ACTION_PATH/install.py"
  fi
done
echo "::error title=suiterun::The composite variant needs Python 3.11 or later on the runner: add actions/setup-python before this step."
exit 2
"""
# exec: the runner's SIGINT/SIGTERM on cancellation reaches Python, which still writes status=cancelled and the summary.
RUN_SCRIPT = 'exec "$SUITERUN_PYTHON" "$GITHUB_ACTION_PATH/../entrypoint.py"\n'


def quoted(text: str) -> str:
    """A YAML scalar that reads back as `text` (JSON strings are YAML)."""
    return json.dumps(text, ensure_ascii=False)


def composite(action: dict[str, Any]) -> str:
    lines = [
        f"# {HEADER}",
        "# The composite variant: the same action without Docker, for macOS, Windows and self-hosted runners (README: Other",
        "# runners and CI systems). It runs the engine from this checkout in a virtual environment it keeps in the runner's",
        "# tool cache (composite/install.py).",
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
        lines += [f"  {name}:", f"    description: {quoted(spec['description'])}", f"    value: ${{{{ steps.run.outputs['{name}'] }}}}"]
    lines += [
        "",
        "runs:",
        "  using: composite",
        "  steps:",
        "    - name: Set up suiterun (a virtual environment in the tool cache, reused when present)",
        "      id: setup",
        "      shell: bash",
        "      run: |",
        *(f"        {line}" for line in SETUP_SCRIPT.splitlines()),
        "    - name: Run the tests",
        "      id: run",
        "      shell: bash",
        "      env:",
        "        SUITERUN_PYTHON: ${{ steps.setup.outputs.python }}",
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
