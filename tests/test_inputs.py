"""Inputs: parsers, and every bad input ends as one clear error line with a summary and status=error."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from suiterun.errors import InputError
from suiterun.inputs import parse_bool, parse_duration, parse_list, parse_variables
from tests.support import run_in_process, sandbox_url
from vendors import ADAPTERS, VENDOR_INPUTS


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("45m", 2700), ("1h30m", 5400), ("2h", 7200), ("120", 120), ("1m5s", 65)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration("timeout", text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "1.5m", "-5", "5 m", "m", "1d", "0", "0s", "²", "1²s", "٣m", "9" * 5000, "7h"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(InputError, match="Input 'timeout'"):
        parse_duration("timeout", text)


@pytest.mark.parametrize(("text", "value"), [("true", True), ("True", True), ("tRuE", True), ("FALSE", False), ("false", False), ("fAlSe", False)])
def test_parse_bool(text: str, value: bool) -> None:
    assert parse_bool("wait", text) is value


@pytest.mark.parametrize("text", ["yes", "1", "ture", "on", ""])
def test_parse_bool_is_strict(text: str) -> None:
    with pytest.raises(InputError, match="Input 'wait' must be true or false"):
        parse_bool("wait", text)


def test_parse_list_splits_on_commas_and_newlines() -> None:
    assert parse_list(" a, b\n\nc ,\n d ") == ("a", "b", "c", "d")


@pytest.mark.parametrize(
    ("text", "variables"),
    [
        ("A=1,B=two", {"A": "1", "B": "two"}),
        ("A=1\nB=x,y,z\n", {"A": "1", "B": "x,y,z"}),
        ("URL=https://x/?a=b", {"URL": "https://x/?a=b"}),
        ('{"A": "1", "N": 2, "T": true}', {"A": "1", "N": "2", "T": "true"}),
        ("EMPTY=", {"EMPTY": ""}),
    ],
)
def test_parse_variables(text: str, variables: dict[str, str]) -> None:
    assert parse_variables("variables", text) == variables


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A", "'A' is not KEY=VALUE"),
        ("A=1,A=2", "the key 'A' is set twice"),
        ('{"A": "1", "A": "2"}', "the key 'A' is set twice"),  # the same rule for both forms
        ("1A=x", "'1A' is not a valid variable name"),
        ('{"A": {"nested": 1}}', "the value of 'A' must be a string"),
        ('{"A": 1', "is not valid JSON"),
        ("=value", "'' is not a valid variable name"),
    ],
)
def test_parse_variables_rejects(text: str, message: str) -> None:
    with pytest.raises(InputError, match=f"Input 'variables': {message}" if "JSON" not in message else message):
        parse_variables("variables", text)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


VALID = {"vendor": "autosana", "api-key": "sandbox-pass", "suites": "s1", "app-id": "web"}

BAD_INPUTS = [
    ({"vendor": ""}, "Input 'vendor' is required, expected one of: "),
    ({"vendor": "acme"}, "Input 'vendor' has unsupported value 'acme', expected one of: "),
    ({"api-key": ""}, "Input 'api-key' is required"),
    ({"api-key": "two words"}, "Input 'api-key' contains whitespace"),
    ({"api-url": "ftp://x"}, "Input 'api-url' must be an http(s) base URL"),
    ({"api-url": "not a url"}, "Input 'api-url' must be an http(s) base URL"),
    ({"variables": "NOPE"}, "Input 'variables': 'NOPE' is not KEY=VALUE"),
    ({"variables": "{bad json"}, "Input 'variables' is not valid JSON"),
    ({"timeout": "forever"}, "Input 'timeout' must be a duration like 90s, 45m, 1h30m"),
    ({"timeout": "0"}, "Input 'timeout' must be at least 1s"),
    ({"poll-interval": "500ms"}, "Input 'poll-interval' must be a duration"),
    ({"poll-interval": "0s"}, "Input 'poll-interval' must be at least 1s"),
    ({"timeout": "10s", "poll-interval": "15s"}, "Input 'poll-interval' (15s) must be shorter than 'timeout' (10s)"),
    ({"fail-on": "sometimes"}, "Input 'fail-on' has unsupported value 'sometimes', expected one of: failure, new-failures, error, never"),
    ({"wait": "yes"}, "Input 'wait' must be true or false (in any case), got 'yes'"),
    ({"job-summary": "nope"}, "Input 'job-summary' must be true or false"),
    ({"suites": "", "tests": ""}, "Autosana needs input 'suites' (suite ids), 'tests' (flow ids) or 'labels', or a build to upload"),
    ({"app-id": ""}, "Autosana needs input 'app-id' (web) or 'bundle-id' with 'platform'"),
    ({"app-id": "", "bundle-id": "com.x", "platform": "windows"}, "Input 'platform' must be ios, android or chrome-extension"),
    ({"bundle-id": "com.x"}, "takes either input 'app-id' (web) or 'bundle-id' with 'platform'"),
    # Found by attacking the action: each was "Internal error" before (non-ASCII digits, Python's
    # limit on long integers, no upper bound on durations, an unguarded URL parse).
    ({"api-key": "sandbox-pässword"}, "Input 'api-key' contains characters that are not plain ASCII"),
    ({"api-key": "e"}, "Input 'api-key' is too short to be an API key (1 characters)"),
    ({"timeout": "²"}, "Input 'timeout' must be a duration like"),
    ({"timeout": "9" * 5000}, "Input 'timeout' must be a duration like"),
    ({"timeout": "9" * 400, "poll-interval": "9" * 400}, "Input 'timeout' must be a duration like"),
    ({"timeout": "7h"}, "Input 'timeout' must be at most 6h"),
    ({"timeout": "20000000000", "poll-interval": "10000000000"}, "Input 'timeout' must be a duration like"),
    ({"timeout": "6h", "poll-interval": "10000000"}, "Input 'poll-interval' must be at most 6h"),
    ({"api-url": "http://[::1"}, "Input 'api-url' is not a valid URL"),
    ({"api-url": "http://127.0.0.1:99999"}, "Input 'api-url' is not a valid URL"),
    ({"api-url": "http://vendor.example.com"}, "Input 'api-url' uses plain http:// to vendor.example.com"),
    ({"allow-http": "maybe"}, "Input 'allow-http' must be true or false"),
    ({"junit-file": "r.xml", "ctrf-file": "./r.xml"}, "Inputs 'junit-file' and 'ctrf-file' name the same file 'r.xml'"),
    ({"variables": '{"A": "1", "A": "2"}'}, "Input 'variables': the key 'A' is set twice"),
]


@pytest.mark.parametrize(("change", "message"), BAD_INPUTS, ids=lambda value: str(value)[:60])
def test_bad_input_is_one_clear_error(change: dict[str, str], message: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {**VALID, "api-url": sandbox_url(sandbox, "autosana"), **change}
    run = run_in_process(tmp_path, inputs, server=sandbox)
    assert run.exit_code == 2
    assert run.outputs["status"] == "error"
    errors = [line for line in run.log.splitlines() if line.startswith("::error")]
    assert len(errors) == 1, run.log
    assert message in errors[0]
    assert message.replace("|", "\\|")[:40] in run.summary.replace("\\", "") or message[:20] in run.summary
    assert run.requests == []  # nothing is sent before every input is valid
    assert "Traceback" not in run.log


FOREIGN = [(vendor, name) for vendor, adapter in ADAPTERS.items() for name in VENDOR_INPUTS if name not in adapter.inputs]


@pytest.mark.parametrize(("vendor", "name"), FOREIGN)
def test_input_of_another_vendor_is_rejected(vendor: str, name: str, tmp_path: Path) -> None:
    run = run_in_process(tmp_path, {"vendor": vendor, "api-key": "sandbox-pass", "api-url": "http://127.0.0.1:9", name: "x"})
    assert run.exit_code == 2
    assert f"Input '{name}' does not apply to vendor {vendor}; its vendor-specific inputs are: " in run.log


@pytest.mark.io
def test_unreachable_host_is_a_clear_error(tmp_path: Path) -> None:
    inputs = {**VALID, "api-url": f"http://127.0.0.1:{_closed_port()}"}
    run = run_in_process(tmp_path, inputs)
    assert run.exit_code == 3
    assert run.outputs["status"] == "error"
    assert "cannot reach Autosana at 127.0.0.1" in run.log
    assert "connection refused" in run.log
    assert "Traceback" not in run.log


def test_wrong_key_is_a_clear_error_and_never_printed(sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {**VALID, "api-key": "wrong-key-abc123", "api-url": sandbox_url(sandbox, "autosana")}
    run = run_in_process(tmp_path, inputs, server=sandbox)
    assert run.exit_code == 3
    assert "Autosana rejected the API key (HTTP 401" in run.log
    assert run.log.splitlines()[0] == "::add-mask::wrong-key-abc123"
    assert "wrong-key-abc123" not in "\n".join(run.log.splitlines()[1:]) + run.summary + "".join(run.outputs.values())
