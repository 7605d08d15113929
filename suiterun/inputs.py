"""Reading action inputs and turning their text into typed values, or one clear InputError."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import urlsplit

from suiterun.context import CIContext
from suiterun.errors import InputError
from suiterun.interface import INPUTS

E = TypeVar("E", bound=StrEnum)

# ASCII digits only (`\d` and str.isdigit() also accept '²' and other scripts' digits), and few
# enough of them that no conversion meets Python's limit on long integers.
_DURATION = re.compile(r"(?:(?P<h>[0-9]{1,6})h)?(?:(?P<m>[0-9]{1,8})m)?(?:(?P<s>[0-9]{1,10})s)?")
_SECONDS = re.compile(r"[0-9]{1,10}")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")  # fits any vendor's 64-bit id
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# The longest `timeout` or `poll-interval`: GitHub's limit for a job on a hosted runner.
MAX_DURATION = 6 * 3600.0
# The deepest nesting a JSON input may have: every real one is two or three levels deep.
MAX_JSON_DEPTH = 16


# action.yml's default of each input, the one place defaults are written. A default that is an expression
# (`${{ github.token }}`) means something only to GitHub, which passes its value.
DEFAULTS = {item.name: item.default for item in INPUTS if "${{" not in item.default}


@dataclass(frozen=True)
class Inputs:
    """The action's inputs, read the way GitHub passes them: `INPUT_<NAME>` with
    the name upper-cased and hyphens kept (what actions_toolkit.core.get_input reads).
    An input left empty (unset, or passed as '') reads as its action.yml default."""

    environ: Mapping[str, str]

    def get(self, name: str) -> str:
        return self.given_value(name) or DEFAULTS.get(name, "")

    def given_value(self, name: str) -> str:
        return self.environ.get(f"INPUT_{name.replace(' ', '_').upper()}", "").strip()

    def given(self, names: Iterable[str]) -> list[str]:
        """The names among `names` that were given a non-empty value."""
        return [name for name in names if self.given_value(name)]


@dataclass(frozen=True)
class Common:
    """The inputs every vendor shares, parsed once (suiterun.settings) and handed to the adapter's parse_options, which
    reads them here, never from the inputs again; with the CI context the run is in."""

    api_key: str = field(repr=False)
    api_url: str
    allow_http: bool
    wait: bool
    context: CIContext
    retry_failed: int = 0  # rounds of starting the failed tests again (only for an adapter that can_retry)


def parse_bool(name: str, value: str) -> bool:
    # Strict: `true` or `false` in any case; a typo (`ture`, `yes`, `1`) is an error, not false.
    if value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    raise InputError(f"Input '{name}' must be true or false (in any case), got '{value}'.")


def parse_choice(name: str, value: str, choices: type[E]) -> E:
    try:
        return choices(value.lower())
    except ValueError:
        allowed = ", ".join(choice.value for choice in choices)
        raise InputError(f"Input '{name}' has unsupported value '{value}', expected one of: {allowed}.") from None


def parse_duration(name: str, value: str, *, minimum: float = 1) -> float:
    """`90s`, `45m`, `1h30m` or bare seconds, as seconds; at most MAX_DURATION."""
    match = _DURATION.fullmatch(value)
    if _SECONDS.fullmatch(value):
        seconds = float(value)
    elif value and match:
        hours, minutes, secs = (int(match.group(part) or 0) for part in "hms")
        seconds = float(hours * 3600 + minutes * 60 + secs)
    else:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise InputError(f"Input '{name}' must be a duration like 90s, 45m, 1h30m or a number of seconds, got '{shown}'.")
    if seconds < minimum:
        raise InputError(f"Input '{name}' must be at least {minimum:g}s, got '{value}'.")
    if seconds > MAX_DURATION:
        raise InputError(f"Input '{name}' must be at most 6h (GitHub's limit for a job), got '{value}'.")
    return seconds


def parse_list(value: str) -> tuple[str, ...]:
    """Identifiers separated by commas and/or newlines; blanks dropped, order kept."""
    return tuple(item.strip() for item in re.split(r"[,\n]", value) if item.strip())


def parse_positive_int(name: str, value: str, *, what: str = "a whole number of at least 1") -> int:
    """A whole number of at least 1, in ASCII digits, at most 18 of them."""
    if not _WHOLE_NUMBER.fullmatch(value) or int(value) < 1:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise InputError(f"Input '{name}' must be {what}, got '{shown}'.")
    return int(value)


def parse_whole_number(name: str, value: str, *, low: int, high: int) -> int:
    """A whole number from `low` to `high`, in ASCII digits."""
    if not _WHOLE_NUMBER.fullmatch(value) or not low <= int(value) <= high:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise InputError(f"Input '{name}' must be a whole number from {low} to {high}, got '{shown}'.")
    return int(value)


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def parse_json(name: str, value: str, expected: type[dict[Any, Any]] | type[list[Any]]) -> Any:
    """A JSON object or array. A key given twice is an error (JSON parsers disagree on which one wins), and so is
    nesting deeper than MAX_JSON_DEPTH (every later step that walks the value would otherwise hit Python's recursion limit)."""
    kind = "object" if expected is dict else "array"
    too_deep = InputError(f"Input '{name}' is nested more than {MAX_JSON_DEPTH} levels deep; expected a flat JSON {kind}.")
    try:
        parsed = json.loads(value, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise InputError(f"Input '{name}': the key '{exc}' is set twice.") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"Input '{name}' is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); expected a JSON {kind}.") from None
    except RecursionError:
        raise too_deep from None
    if _depth(parsed) > MAX_JSON_DEPTH:
        raise too_deep
    if not isinstance(parsed, expected):
        raise InputError(f"Input '{name}' must be a JSON {kind}, got {type(parsed).__name__}.")
    return parsed


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (a scalar is 0), without recursion."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level + 1)
            pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_variables(name: str, value: str) -> dict[str, str]:
    """`KEY=VALUE` per line (values may then hold commas) or comma-separated, or a JSON object."""
    if value.startswith("{"):
        parsed = parse_json(name, value, dict)
        pairs = list(parsed.items())
        for key, item in pairs:
            if isinstance(item, dict | list) or item is None:
                raise InputError(f"Input '{name}': the value of '{key}' must be a string, number or boolean.")
        variables = {str(key): item if isinstance(item, str) else json.dumps(item) for key, item in pairs}
    else:
        separator = "\n" if "\n" in value else ","
        variables = {}
        for entry in (part.strip() for part in value.split(separator)):
            if not entry:
                continue
            key, equals, item = entry.partition("=")
            key = key.strip()
            if not equals:
                raise InputError(f"Input '{name}': '{key}' is not KEY=VALUE; write one KEY=VALUE per line or a JSON object.")
            if key in variables:
                raise InputError(f"Input '{name}': the key '{key}' is set twice.")
            variables[key] = item.strip()
    for key in variables:
        if not _VARIABLE_NAME.fullmatch(key):
            raise InputError(f"Input '{name}': '{key}' is not a valid variable name (letters, digits, _ . -, not starting with a digit).")
    return variables


def parse_workspace_path(name: str, value: str, workspace: Path) -> Path | None:
    """A file path relative to the workspace, as the workspace-relative path; None when empty.

    Relative, because a Docker action sees the workspace at another absolute path
    than later steps do; inside, so a typo or `..` cannot write outside the checkout."""
    if not value:
        return None
    if PurePosixPath(value).is_absolute():
        raise InputError(f"Input '{name}' must be a path relative to the workspace, e.g. reports/results.xml, got the absolute path '{value}'.")
    root = workspace.resolve()
    resolved = (root / value).resolve()
    if resolved == root or not resolved.is_relative_to(root):
        raise InputError(f"Input '{name}' must name a file inside the workspace, but '{value}' leads outside it.")
    return resolved.relative_to(root)


def check_plain_http(name: str, url: str, *, allow_http: bool) -> None:
    """The API key must not cross a network unencrypted: http:// only to this machine, unless allow-http says so."""
    parts = urlsplit(url)
    if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname or ""):
        raise InputError(
            f"Input '{name}' uses plain http:// to {parts.hostname}, which would send the API key unencrypted; "
            "use https://, or set allow-http: true for a test server you trust on your own network."
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
