"""The debug line of each HTTP request, when the runner's debug logging (RUNNER_DEBUG=1) or the command's --verbose is
on: the method, the host and path (never the query), the status, the time it took, the bytes received, and the start of
the answer.

The answer is cleaned before it is cut, twice: of the run's secrets (Secrets), and of whatever looks like a credential
by its name or place, since this line is written before an adapter can mask what the answer hands out (a token, a
presigned URL): the query of every URL, and the value of every JSON field, parameter, header or XML element named like
a token, password, secret, signature, credential, cookie or key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from suiterun.secrets import REDACTED, Secrets, encodable
from suiterun.text import format_size, one_line

if TYPE_CHECKING:
    import requests

BODY_CHARS = 500  # of each answer, once cleaned

# A name that announces a credential: `access_token`, `X-Amz-Signature`, `client_secret`, `Authorization`, `sig`, ...
_NAME = r"(?:[\w.-]*(?:token|secret|passw|pwd|signature|credential|(?:api|access|private)[-_]?key|authori[sz]ation|cookie)[\w.-]*|sig|key)"
_SCRUBS = (
    # the query of a URL (a presigned URL's signature), also in JSON's escaped form https:\/\/
    (re.compile(r"(https?:(?:\\?/){2}[^\s\"'<>?#]*)\?[^\s\"'<>#]*", re.I), rf"\1?{REDACTED}"),
    # "token": "value", also as escaped JSON inside a string (a string, possibly cut off at the end, or a number or word; an
    # object's own fields are seen one by one)
    (re.compile(rf"(\\?\"{_NAME}\\?\"\s*:\s*)(?:\\?\"(?:[^\"\\]|\\.)*(?:\"|$)|[^\s,}}\]{{\[][^\s,}}\]]*)", re.I), rf'\1"{REDACTED}"'),
    # <SignatureProvided>value</SignatureProvided>
    (re.compile(rf"(<{_NAME}(?:\s[^>]*)?>)[^<]*", re.I), rf"\1{REDACTED}"),
    # token=value (a query or a form outside a URL)
    (re.compile(rf"((?<![\w.-]){_NAME}=)[^\s&\"'<>;,]*", re.I), rf"\1{REDACTED}"),
    # Authorization: Bearer value, token: value
    (re.compile(rf"((?<![\w.-]){_NAME}\s*:\s*)(?:(?:bearer|basic|token|jwt|digest)\s+)?[^\s,;\"'<>]+", re.I), rf"\1{REDACTED}"),
)


def scrub(text: str) -> str:
    """`text` without what looks like a credential by its name or place (see the module's doc)."""
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def where(url: str) -> str:
    """The host and path of `url`, as a debug line shows them: no user or password, no query, no fragment."""
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] + (parts.path or "/")


@dataclass(frozen=True)
class HttpDebug:
    """Where the debug line of every HTTP request goes (Workflow.http_debug, which is None when debugging is off), with
    the run's secrets to take out of an answer before it is cut. `suiterun.http.bounded_request` calls it."""

    write: Callable[[str], None]
    secrets: Secrets

    def answered(self, method: str, url: str, response: requests.Response, seconds: float) -> None:
        content = response.content or b""
        body = self.start_of(content, response.encoding)
        self.write(
            f"{method} {where(url)} -> HTTP {response.status_code} in {_ms(seconds)}, {format_size(len(content))} received"
            + (f": {body}" if body else "")
        )

    def unanswered(self, method: str, url: str, problem: BaseException, seconds: float) -> None:
        self.write(f"{method} {where(url)} -> no answer after {_ms(seconds)} ({type(problem).__name__})")

    def start_of(self, content: bytes, encoding: str | None) -> str:
        """The first BODY_CHARS of an answer on one line, cleaned of secrets and credentials before the cut."""
        try:
            text = content.decode(encoding or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            text = content.decode("utf-8", errors="replace")
        return one_line(scrub(self.secrets.redact(encodable(text))), limit=BODY_CHARS)


def _ms(seconds: float) -> str:
    return f"{round(seconds * 1000)} ms"
