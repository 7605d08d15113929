"""Each vendor's trace page (docs/vendors/) names every request its adapter sends and every field of their bodies,
and the README links it: the page cannot fall behind the code unnoticed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sandbox.server import SandboxServer
from sandbox.testclix import scenario_test_id
from suiterun.registry import ADAPTERS
from tests.contract import Case, run_case
from tests.support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = {vendor: f"{vendor}.md" for vendor in ADAPTERS}
# Runs that together send every request and every body field the adapter knows.
RUNS: dict[str, list[Case]] = {
    "aiva": [
        Case(
            "mixed",
            "failed",
            1,
            inputs={"tests": "t-1,t-2", "test-names": "Basic test", "variables": "A=1", "gateway": "Office", "retry-failed": "1"},
        ),
        Case("mixed", "failed", 1, inputs={"tests": "", "labels": "smoke", "variables": "A=1", "gateway": "Office", "retry-failed": "1"}),
        Case(
            "mixed",
            "failed",
            1,
            inputs={
                "tests": "",
                "labels": "smoke",
                "max-agents": "2",
                "batch-name": "Nightly",
                "variables": "A=1",
                "variables-per-test": '{"t-1": {"A": "2"}}',
                "gateway": "Office",
            },
        ),
    ],
    "autosana": [
        Case(
            "mixed",
            "failed",
            1,
            inputs={
                "tests": "f-1",
                "labels": "smoke",
                "variables": "A=1",
                "environment": "staging",
                "web-browser": "firefox",
                "dependencies": '["app-2", {"app_id": "app-3", "app_build_id": "b-3"}]',
                "app-url": "https://preview-17.shop.example",
                "app-name": "Preview 17",
            },
        ),
        Case(
            "mixed",
            "failed",
            1,
            inputs={"app-id": "", "bundle-id": "com.acme.shop", "platform": "android", "build-path": "build/app.apk", "app-name": "Shop"},
            files={"build/app.apk": b"an apk"},
        ),
    ],
    "kapptivate": [Case("mixed", "failed", 1, inputs={"variables": "A=1", "variable-group-id": "7", "run-name": "Nightly"})],
    "test-lab": [
        Case(
            "pass",
            "triggered",
            0,
            inputs={
                "project-id": "",
                "tests": "1",
                "test-type": "quickTest",
                "build-id": "b-1",
                "cookies": '[{"name": "s", "value": "v", "domain": ".d"}]',
            },
        ),
        Case("pass", "triggered", 0),
        Case("pass", "triggered", 0, inputs={"project-id": "", "labels": "smoke"}),
    ],
    "testclix": [Case("mixed", "failed", 1, inputs={"tests": ",".join(scenario_test_id(n) for n in range(1, 5)), "retry-failed": "1"})],
}


def static_prefix(path: str) -> str:
    """A path up to its first segment that is a value (an id: digits, %-escapes or a long token), e.g. `/v1/batches/`."""
    kept: list[str] = []
    for segment in path.split("/"):
        if "%" in segment or segment.isdigit() or (re.search(r"[0-9]", segment) and len(segment) > 8):
            return "/".join(kept) + "/"
        kept.append(segment)
    return path


def field_paths(body: Any, prefix: str = "") -> set[str]:
    """`key` for every key of a body, `key[].inner` for the keys of objects in its lists; values that are the user's
    own maps (variables, devices) are not walked."""
    found: set[str] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            found.add(f"{prefix}{key}")
            if isinstance(value, list):
                for item in value:
                    found |= field_paths(item, f"{prefix}{key}[].")
    return found


def test_every_vendor_page_is_linked_from_the_readme() -> None:
    for page in PAGES.values():
        assert (ROOT / "docs" / "vendors" / page).is_file()
        assert f"](docs/vendors/{page})" in README


@pytest.mark.parametrize("vendor", PAGES)
def test_the_page_names_every_request_and_body_field_the_adapter_sends(vendor: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    page = (ROOT / "docs" / "vendors" / PAGES[vendor]).read_text(encoding="utf-8")
    # The vendor's API only: an upload's PUT goes to storage (the page traces it as `PUT <upload_url>`).
    sent = [request for case in RUNS[vendor] for request in run_case(vendor, case, sandbox, tmp_path).requests if request["vendor"] == vendor]
    requests = {f"{request['method']} {static_prefix(request['path'])}" for request in sent}
    fields = set().union(*(field_paths(request["body"]) for request in sent))
    assert requests and (fields or vendor == "testclix")  # TestCLIX's requests carry no body
    assert [request for request in sorted(requests) if request not in page] == []
    assert [field for field in sorted(fields) if f"`{field}`" not in page] == []
