"""Secrets and their redaction: one object every sink and the HTTP client go through.

Vendor text is redacted where it enters (the HTTP client, before any cutting or
escaping) and again where anything leaves (log, outputs, summary, comment, report
files). The second pass also knows the forms a secret takes once escaped or
encoded (URL, JSON, XML/HTML, Markdown, base64), so an echo the vendor or a sink
transformed is still caught. What it cannot catch, docs/security.md says.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
from enum import Enum
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

from suiterun.text import markdown_inline

T = TypeVar("T")

# Shorter values are neither masked nor redacted: replacing every "1" or "e" in the
# outputs would corrupt counts and statuses while protecting nothing.
MIN_SECRET_LENGTH = 6
REDACTED = "***"


def _forms(secret: str) -> set[str]:
    """The secret as itself and as escaping or encoding turns it into."""
    raw = secret.encode("utf-8")
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret, quote=True),
        html.escape(secret, quote=False),
        secret.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"),  # ElementTree attributes
        markdown_inline(secret),
    }
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(raw).decode("ascii")
        forms.update({encoded, encoded.rstrip("=")})
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Secrets:
    """The secret values of one run (API key, tokens, cookie values) and their redaction."""

    def __init__(self) -> None:
        self._values: list[str] = []
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: str) -> list[str]:
        """Remember each line of `secret`; returns the lines that are new (to mask in the runner's log)."""
        added = []
        for value in secret.splitlines():
            line = value.strip()
            if len(line) >= MIN_SECRET_LENGTH and line not in self._values:
                self._values.append(line)
                added.append(line)
        if added:
            forms = sorted({form for value in self._values for form in _forms(value)}, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(form) for form in forms))
        return added

    def redact(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)

    def clean(self, value: T) -> T:
        """`value` with every string in it redacted and made encodable (a lone UTF-16 surrogate, as
        a truncated emoji leaves in JSON, becomes U+FFFD): through dicts, lists, tuples and dataclasses."""
        return _clean(value, self)  # type: ignore[no-any-return]


def encodable(text: str) -> str:
    """`text` with lone surrogates replaced, so it can be written as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _clean(value: Any, secrets: Secrets) -> Any:
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return secrets.redact(encodable(value))
    if isinstance(value, dict):
        return {_clean(key, secrets): _clean(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item, secrets) for item in value]
    if isinstance(value, tuple):
        return tuple(_clean(item, secrets) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {field.name: _clean(getattr(value, field.name), secrets) for field in dataclasses.fields(value) if field.init}
        return dataclasses.replace(value, **changes)
    return value
