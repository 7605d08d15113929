"""All inputs, validated once into a frozen Settings object before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from suiterun.comment import CommentSettings
from suiterun.errors import InputError
from suiterun.inputs import Inputs, check_plain_http, parse_bool, parse_choice, parse_duration, parse_workspace_path
from suiterun.polling import format_duration
from suiterun.registry import ADAPTERS, VENDOR_INPUTS, VendorAdapter
from suiterun.render import TemplateSource, check_template
from suiterun.reports import ReportFiles, check_not_written_yet
from suiterun.results import AllSkipped, FailOn
from suiterun.workflow import GitHubContext


@dataclass(frozen=True)
class Settings:
    adapter: type[VendorAdapter[Any]]
    api_key: str = field(repr=False)
    api_url: str
    options: Any  # the adapter's own frozen options object
    wait: bool
    timeout: float  # seconds
    poll_interval: float  # seconds
    fail_on: FailOn
    job_summary: bool
    context: GitHubContext
    comment: CommentSettings
    reports: ReportFiles = field(default_factory=ReportFiles)
    summary_template: Path | None = None  # workspace-relative, checked to compile
    comment_template: Path | None = None  # workspace-relative, checked to compile
    all_skipped: AllSkipped = AllSkipped.ERROR

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        inputs = Inputs(environ)
        context = GitHubContext.from_environ(environ)
        adapter = clean_vendor(inputs.get("vendor"))
        reject_foreign_inputs(inputs, adapter)
        timeout, poll_interval = clean_timing(inputs)
        allow_http = parse_bool("allow-http", inputs.get("allow-http") or "false")
        junit, ctrf = clean_report_files(inputs, context.workspace)
        return cls(
            adapter=adapter,
            api_key=clean_api_key(inputs.get("api-key")),
            api_url=clean_api_url(inputs.get("api-url"), adapter, allow_http=allow_http),
            wait=parse_bool("wait", inputs.get("wait") or "true"),
            timeout=timeout,
            poll_interval=poll_interval,
            fail_on=parse_choice("fail-on", inputs.get("fail-on") or "failure", FailOn),
            all_skipped=parse_choice("all-skipped", inputs.get("all-skipped") or "error", AllSkipped),
            job_summary=parse_bool("job-summary", inputs.get("job-summary") or "true"),
            options=adapter.parse_options(inputs, context),
            context=context,
            comment=CommentSettings.from_environ(inputs, environ, vendor=adapter.name),
            reports=ReportFiles(junit=junit, ctrf=ctrf),
            summary_template=clean_template("summary-template", inputs, context),
            comment_template=clean_template("comment-template", inputs, context),
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
    timeout = parse_duration("timeout", inputs.get("timeout") or "30m")
    poll_interval = parse_duration("poll-interval", inputs.get("poll-interval") or "15s")
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


def clean_report_files(inputs: Inputs, workspace: Path) -> tuple[Path | None, Path | None]:
    """`junit-file` and `ctrf-file`: new files in the workspace, and not the same file."""
    junit, ctrf = (
        check_not_written_yet(name, parse_workspace_path(name, inputs.get(name), workspace), workspace) for name in ("junit-file", "ctrf-file")
    )
    if junit is not None and junit == ctrf:
        raise InputError(f"Inputs 'junit-file' and 'ctrf-file' name the same file '{junit.as_posix()}'; give each report its own path.")
    return junit, ctrf


def clean_template(name: str, inputs: Inputs, context: GitHubContext) -> Path | None:
    """The user's template file; rendered once with sample results now, so that a missing file, a syntax
    error or a misspelt name stops the step before any run starts."""
    path = parse_workspace_path(name, inputs.get(name), context.workspace)
    if path is not None:
        check_template(TemplateSource.choose("", path, input_name=name, workspace=context.workspace), context)
    return path
