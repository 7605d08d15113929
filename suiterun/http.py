"""The one HTTP client every vendor adapter uses: timeouts, safe retries, clear errors."""

from __future__ import annotations

import email.utils
import functools
import json
import os
import re
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from suiterun.clock import Deadline
from suiterun.concurrency import Overdue, call_within
from suiterun.errors import InputError, TimeoutReached, TransientVendorError, VendorError
from suiterun.http_debug import HttpDebug
from suiterun.secrets import Secrets
from suiterun.text import one_line

USER_AGENT = "suiterun-github-action"
MAX_BACKOFF = 30.0
_SECONDS = re.compile(r"[0-9]{1,9}")  # ASCII digits only: str.isdigit() also accepts '²'


class Retry(Enum):
    """Which failures a request may be repeated after."""

    # Status reads change nothing: repeat after any connection error, timeout,
    # 429, 5xx or non-JSON body.
    READ = "read"
    # A trigger creates a run: repeat only when none can have been created
    # (the connection never opened, 429, 503), so a run is never started twice.
    TRIGGER = "trigger"


class NoTimeLeft(Exception):
    """The deadline passed before a request could be sent."""


@dataclass(frozen=True)
class Limits:
    """How long one request may take: to connect, per read of the socket, and the whole of it (a body can drip in)."""

    connect: float
    read: float
    whole: float


# The variables naming the certificate authorities to trust, in the order they count: requests reads the first two
# itself; SSL_CERT_FILE (OpenSSL's, which curl and most tools honour) it ignores, so http_session applies it.
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


class CertificatesNotFound(InputError):
    """The variable naming the certificate authorities to trust names no file or folder."""


def http_session() -> requests.Session:
    """A session for the vendor, storage or GitHub; every one the action opens comes from here. requests' trust_env stays
    on, so HTTPS_PROXY, HTTP_PROXY, NO_PROXY and REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) apply; SSL_CERT_FILE applies when
    neither of those is set. CertificatesNotFound when the variable that applies names nothing."""
    session = requests.Session()
    name = next((name for name in CA_VARIABLES if os.environ.get(name)), "")
    path = os.environ.get(name, "")
    if name and not os.path.exists(path):
        raise CertificatesNotFound(
            f"The environment variable {name} names '{path}', which does not exist: "
            "point it at the file of the certificate authorities to trust (PEM), or unset it."
        )
    if name == "SSL_CERT_FILE":
        session.verify = path
    return session


def bounded_request(
    session: requests.Session, method: str, url: str, *, deadline: Deadline, limits: Limits, debug: HttpDebug | None = None, **kwargs: Any
) -> requests.Response:
    """One request that cannot outlast `deadline`: each limit is cut to the time left, the whole request runs in a
    thread the caller stops waiting for when its time is up (Overdue), and no redirect is followed. NoTimeLeft when
    the deadline has passed; requests' own exceptions as they come. The vendor client, the upload and the pull request
    comment all send through it, so this is where `debug` (when debugging is on) sees every request and its answer."""
    remaining = deadline.remaining()
    if remaining <= 0:
        raise NoTimeLeft
    timeout = (min(limits.connect, remaining), min(limits.read, remaining))
    send = functools.partial(session.request, method, url, timeout=timeout, allow_redirects=False, **kwargs)
    started = deadline.clock.monotonic()
    try:
        response = call_within(min(limits.whole, remaining), send)
    except Exception as exc:
        if debug:
            debug.unanswered(method, url, exc, deadline.clock.monotonic() - started)
        raise
    if debug:
        debug.answered(method, url, response, deadline.clock.monotonic() - started)
    return response


# What VendorClient._answered returns after waiting for an answer worth sending the request again for.
_TRY_AGAIN = object()


class VendorHTTPError(VendorError):
    """The vendor answered with an HTTP error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


# (status, the vendor's own message, what was asked for) -> a message, or None for the default
ErrorDescriber = Callable[[int, str, str], str | None]


@dataclass
class VendorClient:
    vendor: str  # display name for messages, e.g. "Autosana"
    base_url: str
    session: requests.Session
    deadline: Deadline
    headers: Mapping[str, str] = field(default_factory=dict)
    describe_error: ErrorDescriber | None = None
    docs_url: str = ""  # the vendor's API page, linked from errors about what was asked
    log: Callable[[str], None] = lambda line: None
    debug: HttpDebug | None = None  # where each request's debug line goes, when debugging is on
    # Vendor text is redacted here, where it enters, before anything cuts or escapes it.
    secrets: Secrets = field(default_factory=Secrets)
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # per read of the socket, so...
    request_timeout: float = 60.0  # ...the whole of one attempt is bounded too (a body can drip in)
    attempts: int = 4

    def get(self, path: str, *, what: str, params: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        return self.request("GET", path, what=what, retry=Retry.READ, params=params, headers=headers)

    def post(
        self, path: str, *, what: str, body: Any, headers: Mapping[str, str] | None = None, retry: Retry = Retry.TRIGGER, seconds: float | None = None
    ) -> Any:
        return self.request("POST", path, what=what, retry=retry, body=body, headers=headers, seconds=seconds)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        retry: Retry,
        params: Any = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        seconds: float | None = None,
    ) -> Any:
        """Send one request and return its JSON body, retrying what `retry` allows
        with capped backoff inside the deadline. `seconds` lets one slow request (a
        vendor that works before it answers) take longer than request_timeout."""
        url = self.url(path)
        limits = Limits(self.connect_timeout, max(self.read_timeout, seconds or 0), seconds or self.request_timeout)
        sent_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **self.headers, **(headers or {})}
        for attempt in range(1, self.attempts + 1):
            try:
                response = bounded_request(
                    self.session, method, url, deadline=self.deadline, limits=limits, debug=self.debug, params=params, json=body, headers=sent_headers
                )
            except NoTimeLeft:
                raise TimeoutReached(f"{self.vendor}: no time left for {what} before the timeout.") from None
            except (requests.RequestException, Overdue) as exc:
                self._unanswered(exc, url, what=what, retry=retry, attempt=attempt)
                continue
            answered = self._answered(response, method, url, what=what, retry=retry, attempt=attempt)
            if answered is not _TRY_AGAIN:
                return answered
        raise AssertionError("unreachable")  # pragma: no cover - the last attempt returns or raises

    def _unanswered(self, exc: requests.RequestException | Overdue, url: str, *, what: str, retry: Retry, attempt: int) -> None:
        """A request that got no answer: waits to try again, or raises what the user is told."""
        never_connected = isinstance(exc, requests.RequestException) and _never_connected(exc)
        reason = f"cannot reach {self.vendor} at {urlsplit(url).netloc} ({_short_reason(exc)})"
        created = "" if never_connected else f"; a run may have been created, check the {self.vendor} dashboard before re-running"
        if self.deadline.expired():
            raise TimeoutReached(f"{reason} for {what} when the timeout passed{created if retry is Retry.TRIGGER else ''}.") from None
        if retry is Retry.TRIGGER and created:
            raise VendorError(f"{reason} while sending {what}{created}.") from None
        if caused_by(exc, ssl.SSLCertVerificationError):  # the same certificate every time: nothing to wait for
            raise VendorError(f"{reason}; nothing was sent. Trust its certificate authority, or check api-url.") from None
        if attempt == self.attempts:
            raise TransientVendorError(f"{reason}. Check api-url and that the host is reachable from the runner.") from None
        self._wait(attempt, None, reason)

    def _answered(self, response: requests.Response, method: str, url: str, *, what: str, retry: Retry, attempt: int) -> Any:
        """The JSON body of an answer; or, after waiting, _TRY_AGAIN for an answer worth repeating the request for;
        or the error the user is told."""
        last = attempt == self.attempts
        status = response.status_code
        if 300 <= status < 400:
            location = response.headers.get("Location", "?")
            raise VendorError(
                f"{self.vendor} redirected {method} {urlsplit(url).path} (HTTP {status}) to {location}; set api-url to the address it points to."
            )
        if status in (429, 503) or (status >= 500 and retry is Retry.READ):
            reason = f"{self.vendor} answered HTTP {status} to {what}"
            if last:
                said = self._vendor_message(response)
                custom = self.describe_error(status, said, what) if self.describe_error else None
                suffix = f" ({said})" if said else ""
                raise TransientVendorError(custom or f"{reason}{suffix}; gave up after {self.attempts} attempts.")
            self._wait(attempt, _retry_after(response), reason)
            return _TRY_AGAIN
        if status >= 400:
            raise self._status_error(status, self._vendor_message(response), what)
        try:
            return self.secrets.clean(response.json())
        except ValueError:
            kind = "HTML" if "html" in response.headers.get("Content-Type", "").lower() else "a body that is not JSON"
            reason = f"{self.vendor} answered {what} with {kind}"
            if retry is Retry.TRIGGER or last:
                raise TransientVendorError(
                    f"{reason} (HTTP {status}); check that api-url points at the {self.vendor} API, not its web app{self._docs()}."
                ) from None
            self._wait(attempt, None, reason)
            return _TRY_AGAIN

    def _wait(self, attempt: int, retry_after: float | None, reason: str) -> None:
        delay = retry_after if retry_after is not None else backoff(attempt)
        if delay >= self.deadline.remaining():
            raise TransientVendorError(f"{reason}; the wait it asks for ({delay:g}s) does not fit before the timeout.")
        self.log(f"{reason}; retrying in {delay:g}s")
        self.deadline.sleep(delay)

    def _vendor_message(self, response: requests.Response) -> str:
        """The vendor's own error text, from the usual JSON fields or the start of the body: redacted, then cut."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("error", "message", "detail", "errors", "title"):
                if body.get(key):
                    value = body[key]
                    return one_line(self.secrets.clean(value if isinstance(value, str) else json.dumps(value)), limit=300)
        if "html" in response.headers.get("Content-Type", "").lower():
            return ""
        return one_line(self.secrets.clean(response.text), limit=300)

    def _status_error(self, status: int, vendor_message: str, what: str) -> VendorHTTPError:
        custom = self.describe_error(status, vendor_message, what) if self.describe_error else None
        said = f": {vendor_message}" if vendor_message else ""
        match status:
            case _ if custom:
                message = custom
            case 401 | 403:
                message = f"{self.vendor} rejected the API key (HTTP {status}{said}). Check that the api-key secret holds a valid {self.vendor} key."
            case 404:
                message = f"{self.vendor} answered HTTP 404 (not found) to {what}{said}. Check the ids you passed and api-url{self._docs()}."
            case _:
                message = f"{self.vendor} answered HTTP {status} to {what}{said}{self._docs(', see')}."
        return VendorHTTPError(message, status)

    def _docs(self, lead: str = "; see") -> str:
        """A pointer to the vendor's API page, for errors about what the request asked for."""
        return f"{lead} {self.vendor}'s API page, {self.docs_url}" if self.docs_url else ""


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt `attempt` (1, 2, 4, ... capped at MAX_BACKOFF)."""
    return min(MAX_BACKOFF, 2.0 ** (attempt - 1))


def caused_by(exc: BaseException, *kinds: type[BaseException]) -> bool:
    """True when an exception of one of `kinds` is behind `exc`: requests and urllib3 wrap the socket's and the TLS
    layer's own errors, keeping them in args, `reason`, or as the cause."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        error = pending.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, kinds):
            return True
        pending.extend([*error.args, error.__cause__, error.__context__, getattr(error, "reason", None)])
    return False


def _never_connected(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the server: refused, DNS failure, connect timeout, or a certificate
    it does not trust (the TLS handshake fails before a byte of the request is sent)."""
    if isinstance(exc, requests.ConnectTimeout) or caused_by(exc, ssl.SSLCertVerificationError):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # urllib3's NewConnectionError and NameResolutionError are ConnectTimeoutError subclasses.
    return isinstance(reason, ConnectTimeoutError)


def _short_reason(exc: requests.RequestException | Overdue) -> str:
    if isinstance(exc, requests.Timeout | Overdue):
        return "timed out"
    if caused_by(exc, ssl.SSLCertVerificationError):
        return "its certificate is not trusted: see REQUESTS_CA_BUNDLE or SSL_CERT_FILE"
    text = str(exc).lower()
    for known in ("connection refused", "name or service not known", "temporary failure in name resolution", "connection reset"):
        if known in text:
            return known
    return type(exc).__name__


def _retry_after(response: requests.Response) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
