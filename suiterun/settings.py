"""All inputs, validated once into a frozen Settings object before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from suiterun.context import CIContext
from suiterun.errors import InputError
from suiterun.history import MAX_RUNS, HistorySettings
from suiterun.inputs import (
    Common,
    Inputs,
    check_plain_http,
    parse_bool,
    parse_choice,
    parse_duration,
    parse_json,
    parse_whole_number,
    parse_workspace_path,
)
from suiterun.registry import ADAPTERS, VENDOR_INPUTS, VendorAdapter
from suiterun.render import TemplateSource, check_template
from suiterun.reports import ReportFiles, check_not_written_yet
from suiterun.results import AllSkipped, FailOn
from suiterun.text import format_duration

MARKER_PREFIX = "<!-- suiterun:comment "


class CommentMode(StrEnum):
    OFF = "off"
    ALWAYS = "always"
    FAILURES = "failures"


@dataclass(frozen=True)
class CommentSettings:
    """What the comment step needs, validated with the other inputs."""

    mode: CommentMode
    token: str = field(repr=False)
    marker: str  # the hidden first line that finds this step's own comment again

    @classmethod
    def from_inputs(cls, inputs: Inputs, context: CIContext, *, vendor: str, matrix: Mapping[str, Any]) -> CommentSettings:
        mode = parse_choice("comment", inputs.get("comment"), CommentMode)
        token = inputs.get("github-token")
        if mode is not CommentMode.OFF and not context.in_actions:
            raise InputError(
                f"Input 'comment' is '{mode}', but this is not a GitHub Actions job, so there is no pull request to comment on; "
                "leave it off here (the summary file is the report)."
            )
        if mode is not CommentMode.OFF and not token:
            raise InputError(
                f"Input 'github-token' is empty but input 'comment' is '{mode}': pass a token that may write pull request comments, "
                "e.g. github-token: ${{ github.token }}."
            )
        identity = {
            "vendor": vendor,
            "workflow": context.workflow,
            "job": context.job,
            "matrix": matrix,
            # The step id (or the runner's name for a step without one, e.g. __suiterun_ai-test-suites_2):
            # two uses of the action in one job get two comments.
            "step": context.action,
        }
        return cls(mode=mode, token=token, marker=comment_marker(identity))


def clean_matrix(value: str) -> dict[str, Any]:
    """`toJSON(matrix)` gives `null` outside a matrix job; users may also pass a JSON object of their own."""
    # GitHub's docs list no contexts for action.yml input defaults; github/codeql-action's upload-sarif relies on
    # this same default, and act evaluates it. Were it ever passed unevaluated, the JSON check fails the step loudly.
    if value in ("", "null"):
        return {}
    parsed: dict[str, Any] = parse_json("matrix", value, dict)
    return parsed


def comment_marker(identity: Mapping[str, Any]) -> str:
    # Sorted, compact JSON, so a pretty-printed toJSON(matrix) and a hand-written one match;
    # `>` is escaped (still valid JSON) so no value can close the HTML comment.
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace(">", "\\u003e")
    return f"{MARKER_PREFIX}{text} -->"


@dataclass(frozen=True)
class Reporting:
    """What the run's end is written to, and when it fails the step. The defaults are what a run whose inputs are
    wrong reports with: the job summary from the built-in template, no report files, no comment, the step failed."""

    fail_on: FailOn = FailOn.FAILURE
    job_summary: bool = True
    reports: ReportFiles = field(default_factory=ReportFiles)
    summary_template: Path | None = None  # workspace-relative, checked to compile
    comment_template: Path | None = None  # workspace-relative, checked to compile
    comment: CommentSettings = field(default_factory=lambda: CommentSettings(CommentMode.OFF, "", ""))
    history: HistorySettings | None = None  # None: no history-file (nor one read or written on an input error)
    matrix: Mapping[str, Any] = field(default_factory=dict)  # the job's matrix entry, in headings and the comment's marker


@dataclass(frozen=True)
class Settings:
    adapter: type[VendorAdapter[Any]]
    common: Common
    options: Any  # the adapter's own frozen options object
    timeout: float  # seconds
    poll_interval: float  # seconds
    all_skipped: AllSkipped
    reporting: Reporting

    @property
    def retry_failed(self) -> int:
        """Rounds of starting the failed tests again (0: none)."""
        return self.common.retry_failed

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], context: CIContext) -> Settings:
        inputs = Inputs(environ)
        adapter = clean_vendor(inputs.get("vendor"))
        reject_foreign_inputs(inputs, adapter)
        timeout, poll_interval = clean_timing(inputs)
        allow_http = parse_bool("allow-http", inputs.get("allow-http"))
        wait = parse_bool("wait", inputs.get("wait"))
        common = Common(
            api_key=clean_api_key(inputs.get("api-key")),
            api_url=clean_api_url(inputs.get("api-url"), adapter, allow_http=allow_http),
            allow_http=allow_http,
            wait=wait,
            context=context,
            retry_failed=clean_retry_failed(inputs, adapter, wait=wait),
        )
        options = adapter.parse_options(inputs, common)
        return cls(
            adapter=adapter,
            common=common,
            options=options,
            timeout=timeout,
            poll_interval=poll_interval,
            all_skipped=parse_choice("all-skipped", inputs.get("all-skipped"), AllSkipped),
            reporting=clean_reporting(inputs, context, vendor=adapter.name),
        )


def clean_reporting(inputs: Inputs, context: CIContext, *, vendor: str) -> Reporting:
    matrix = clean_matrix(inputs.get("matrix"))
    reports = clean_report_files(inputs, context.workspace)
    return Reporting(
        fail_on=parse_choice("fail-on", inputs.get("fail-on"), FailOn),
        job_summary=parse_bool("job-summary", inputs.get("job-summary")),
        reports=reports,
        history=clean_history(inputs, context, reports),
        summary_template=clean_template("summary-template", inputs, context),
        comment_template=clean_template("comment-template", inputs, context),
        comment=CommentSettings.from_inputs(inputs, context, vendor=vendor, matrix=matrix),
        matrix=matrix,
    )


def clean_vendor(value: str) -> type[VendorAdapter[Any]]:
    allowed = ", ".join(ADAPTERS)
    if not value:
        raise InputError(f"Input 'vendor' is required, expected one of: {allowed}.")
    try:
        return ADAPTERS[value.lower()]
    except KeyError:
        raise InputError(f"Input 'vendor' has unsupported value '{value}', expected one of: {allowed}.") from None


MIN_API_KEY_LENGTH = 8


def clean_api_key(value: str) -> str:
    if not value:
        raise InputError("Input 'api-key' is required: pass the vendor's API key from a secret, e.g. api-key: ${{ secrets.VENDOR_API_KEY }}.")
    if any(char.isspace() for char in value):
        raise InputError("Input 'api-key' contains whitespace; check that the secret holds only the key.")
    if not (value.isascii() and value.isprintable()):
        raise InputError("Input 'api-key' contains characters that are not plain ASCII; API keys are ASCII, check the secret for a stray character.")
    if len(value) < MIN_API_KEY_LENGTH:
        # The value cannot be a real key, and a value this short could not be redacted without wrecking the outputs.
        raise InputError(f"Input 'api-key' is too short to be an API key ({len(value)} characters); check that the secret holds the whole key.")
    return value


def clean_api_url(value: str, adapter: type[VendorAdapter[Any]], *, allow_http: bool = False) -> str:
    if not value:
        if not adapter.default_api_url:
            raise InputError(
                f"Input 'api-url' is required for vendor {adapter.name}: your {adapter.title} host, e.g. https://acme.{adapter.name}.com."
            )
        return adapter.default_api_url
    example = adapter.default_api_url or "https://host.example.com"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise InputError(f"Input 'api-url' is not a valid URL ('{value}'); give a base URL such as {example}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InputError(f"Input 'api-url' must be an http(s) base URL such as {example}, got '{value}'.")
    check_plain_http("api-url", value, allow_http=allow_http)
    return value.rstrip("/")


def clean_timing(inputs: Inputs) -> tuple[float, float]:
    """`timeout` and `poll-interval` in seconds; an interval as long as the timeout would never poll."""
    timeout = parse_duration("timeout", inputs.get("timeout"))
    poll_interval = parse_duration("poll-interval", inputs.get("poll-interval"))
    if poll_interval >= timeout:
        raise InputError(
            f"Input 'poll-interval' ({format_duration(poll_interval)}) must be shorter than 'timeout' ({format_duration(timeout)}), "
            "or no status would be read before the timeout."
        )
    return timeout, poll_interval


def reject_foreign_inputs(inputs: Inputs, adapter: type[VendorAdapter[Any]]) -> None:
    """Vendor-specific inputs meant for another vendor are a mistake worth stopping for."""
    foreign = inputs.given(name for name in VENDOR_INPUTS if name not in adapter.inputs)
    if foreign:
        accepted = ", ".join(adapter.inputs) or "none"
        names = ", ".join(f"'{name}'" for name in foreign)
        raise InputError(f"Input {names} does not apply to vendor {adapter.name}; its vendor-specific inputs are: {accepted}.")


def clean_report_files(inputs: Inputs, workspace: Path) -> ReportFiles:
    """`junit-file` and `ctrf-file`: new files in the workspace, and not the same file."""
    junit, ctrf = (
        check_not_written_yet(name, parse_workspace_path(name, inputs.get(name), workspace), workspace) for name in ("junit-file", "ctrf-file")
    )
    if junit is not None and junit == ctrf:
        raise InputError(f"Inputs 'junit-file' and 'ctrf-file' name the same file '{junit.as_posix()}'; give each report its own path.")
    return ReportFiles(junit=junit, ctrf=ctrf)


def clean_history(inputs: Inputs, context: CIContext, reports: ReportFiles) -> HistorySettings | None:
    """history-file: a file in the workspace (it may exist: it is read), not one of the report files."""
    keep = parse_whole_number("history-size", inputs.get("history-size"), low=1, high=MAX_RUNS)
    # A pull request is compared with the branch it goes into; any other run with its own branch.
    branch = inputs.get("baseline-branch") or context.base_branch or context.git.branch
    path = parse_workspace_path("history-file", inputs.get("history-file"), context.workspace)
    if path is None:
        return None
    for name, report in (("junit-file", reports.junit), ("ctrf-file", reports.ctrf)):
        if report == path:
            raise InputError(f"Inputs 'history-file' and '{name}' name the same file '{path.as_posix()}'; give the history a file of its own.")
    return HistorySettings(path, keep, branch)


def clean_retry_failed(inputs: Inputs, adapter: type[VendorAdapter[Any]], *, wait: bool) -> int:
    rounds = parse_whole_number("retry-failed", inputs.get("retry-failed"), low=0, high=3)
    if rounds and not adapter.can_retry:
        able = " and ".join(name for name, other in ADAPTERS.items() if other.can_retry)
        raise InputError(
            f"Input 'retry-failed' does not apply to vendor {adapter.name}: {adapter.title}'s answers do not identify a failed test "
            f"so that it alone can be started again ({able} can); remove it, or re-run the whole job."
        )
    if rounds and not wait:
        raise InputError("Input 'retry-failed' needs wait: true: without waiting for results no test is known to have failed; remove one of them.")
    return rounds


def clean_template(name: str, inputs: Inputs, context: CIContext) -> Path | None:
    """The user's template file; rendered once with sample results now, so that a missing file, a syntax
    error or a misspelt name stops the step before any run starts."""
    path = parse_workspace_path(name, inputs.get(name), context.workspace)
    if path is not None:
        check_template(TemplateSource.choose("", path, input_name=name, workspace=context.workspace), context)
    return path
