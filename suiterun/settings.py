"""All inputs, validated once into a frozen Settings object before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from suiterun.comment import CommentSettings
from suiterun.errors import InputError
from suiterun.inputs import Inputs, parse_bool, parse_choice, parse_duration, parse_workspace_path
from suiterun.polling import format_duration
from suiterun.render import TemplateSource, load_template
from suiterun.reports import ReportFiles, check_not_written_yet
from suiterun.results import FailOn
from suiterun.workflow import GitHubContext
from vendors import ADAPTERS, VENDOR_INPUTS
from vendors.base import VendorAdapter


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

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        inputs = Inputs(environ)
        context = GitHubContext.from_environ(environ)
        adapter = clean_vendor(inputs.get("vendor"))
        reject_foreign_inputs(inputs, adapter)
        timeout, poll_interval = clean_timing(inputs)
        return cls(
            adapter=adapter,
            api_key=clean_api_key(inputs.get("api-key")),
            api_url=clean_api_url(inputs.get("api-url"), adapter),
            wait=parse_bool("wait", inputs.get("wait") or "true"),
            timeout=timeout,
            poll_interval=poll_interval,
            fail_on=parse_choice("fail-on", inputs.get("fail-on") or "failure", FailOn),
            job_summary=parse_bool("job-summary", inputs.get("job-summary") or "true"),
            options=adapter.parse_options(inputs, context),
            context=context,
            comment=CommentSettings.from_environ(inputs, environ, vendor=adapter.name),
            reports=ReportFiles(
                junit=clean_report_file("junit-file", inputs, context.workspace),
                ctrf=clean_report_file("ctrf-file", inputs, context.workspace),
            ),
            summary_template=clean_template("summary-template", inputs, context.workspace),
            comment_template=clean_template("comment-template", inputs, context.workspace),
        )


def clean_vendor(value: str) -> type[VendorAdapter[Any]]:
    allowed = ", ".join(ADAPTERS)
    if not value:
        raise InputError(f"Input 'vendor' is required, expected one of: {allowed}.")
    try:
        return ADAPTERS[value.lower()]
    except KeyError:
        raise InputError(f"Input 'vendor' has unsupported value '{value}', expected one of: {allowed}.") from None


def clean_api_key(value: str) -> str:
    if not value:
        raise InputError("Input 'api-key' is required: pass the vendor's API key from a secret, e.g. api-key: ${{ secrets.VENDOR_API_KEY }}.")
    if any(char.isspace() for char in value):
        raise InputError("Input 'api-key' contains whitespace; check that the secret holds only the key.")
    return value


def clean_api_url(value: str, adapter: type[VendorAdapter[Any]]) -> str:
    if not value:
        if not adapter.default_api_url:
            raise InputError(
                f"Input 'api-url' is required for vendor {adapter.name}: your {adapter.title} host, e.g. https://acme.{adapter.name}.com."
            )
        return adapter.default_api_url
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(
            f"Input 'api-url' must be an http(s) base URL such as {adapter.default_api_url or 'https://host.example.com'}, got '{value}'."
        )
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


def clean_report_file(name: str, inputs: Inputs, workspace: Path) -> Path | None:
    return check_not_written_yet(name, parse_workspace_path(name, inputs.get(name), workspace), workspace)


def clean_template(name: str, inputs: Inputs, workspace: Path) -> Path | None:
    """The user's template file; loaded now so that a missing file or a syntax error stops the step before any run starts."""
    path = parse_workspace_path(name, inputs.get(name), workspace)
    if path is not None:
        load_template(TemplateSource.choose("", path, input_name=name, workspace=workspace))
    return path
