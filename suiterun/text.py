"""Making untrusted vendor text safe to print in the log and in Markdown."""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

_WHITESPACE = re.compile(r"\s+")
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]|~#!])")
_ZERO_WIDTH_SPACE = "\u200b"


def one_line(text: object, *, limit: int = 0) -> str:
    """Collapse whitespace (newlines included) to single spaces; cut to `limit` characters."""
    flat = _WHITESPACE.sub(" ", str(text)).strip()
    if limit and len(flat) > limit:
        return flat[: limit - 1] + "…"
    return flat


def format_duration(seconds: float) -> str:
    """`1h02m03s`, `4m05s`, `7s`."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def format_size(size: int) -> str:
    """A number of bytes as people read it: 812 bytes, 3.4 KiB, 12.3 MiB, 1.5 GiB."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} byte{'' if size == 1 else 's'}"


# C0 controls but tab and newline, DEL, and C1 controls: a terminal acts on them (titles, links, clipboard writes,
# cursor moves, clearing the screen) instead of showing them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def terminal_safe(text: str) -> str:
    """`text` with every control character a terminal would act on made visible: C0 and DEL as their Unicode
    pictures (ESC shows as U+241B), C1 as U+FFFD."""
    return _CONTROL.sub(lambda match: chr(0x2400 + ord(match[0])) if ord(match[0]) < 0x20 else "\u2421" if match[0] == "\x7f" else "\ufffd", text)


def log_safe(text: object, *, limit: int = 500) -> str:
    """Vendor text for a log line: one line, and nothing GitHub would read as a
    workflow command (`::name::` or the legacy `##[name]`), wherever it appears."""
    return one_line(text, limit=limit).replace("::", ":" + _ZERO_WIDTH_SPACE + ":").replace("##[", "#" + _ZERO_WIDTH_SPACE + "#[")


def markdown_inline(text: object, *, limit: int = 0) -> str:
    """Vendor text for a Markdown table cell or list item: one line, HTML escaped,
    Markdown syntax and table pipes escaped, `@mentions` neutralised."""
    escaped = html.escape(one_line(text, limit=limit), quote=False)
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", escaped)
    return escaped.replace("@", "@" + _ZERO_WIDTH_SPACE)


def safe_url(url: object) -> str:
    """An http(s) URL with the characters that would break a Markdown link escaped; '' otherwise."""
    text = str(url or "").strip()
    if urlsplit(text).scheme.lower() not in ("http", "https"):
        return ""
    return quote(text, safe="/:?#[]@!$&'*+,;=%~.-_")


def describe_body(body: object) -> str:
    """A short, one-line rendering of an unexpected response body for an error message."""
    return one_line(body if isinstance(body, str) else repr(body), limit=200)
