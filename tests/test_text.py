"""Untrusted vendor text made safe for the log and for Markdown."""

from __future__ import annotations

import pytest

from suiterun.text import log_safe, markdown_inline, one_line, safe_url


def test_one_line_flattens_and_cuts() -> None:
    assert one_line("a\n b\r\n\tc") == "a b c"
    assert one_line("x" * 10, limit=5) == "xxxx…"


@pytest.mark.parametrize("text", ["::error::x", "ok\n::warning title=t::y", "  ::add-mask::secret", "##[error]legacy", "a::set-output name=x::1"])
def test_log_safe_never_yields_a_workflow_command(text: str) -> None:
    safe = log_safe(text)
    assert "\n" not in safe
    assert "::" not in safe and "##[" not in safe


def test_markdown_inline_escapes_tables_html_and_mentions() -> None:
    assert markdown_inline("a | b <img src=x> @someone") == "a \\| b &lt;img src=x&gt; @\u200bsomeone"
    assert markdown_inline("line1\nline2") == "line1 line2"
    assert markdown_inline("[click](javascript:alert(1))") == "\\[click\\](javascript:alert(1))"
    assert markdown_inline("*bold* _it_ `code` #1") == "\\*bold\\* \\_it\\_ \\`code\\` \\#1"


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://autosana.ai/runs/flow/1", "https://autosana.ai/runs/flow/1"),
        ("http://x.test/a b)c|d", "http://x.test/a%20b%29c%7Cd"),
        ("javascript:alert(1)", ""),
        ("data:text/html,hi", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_safe_url(url: str | None, safe: str) -> None:
    assert safe_url(url) == safe
