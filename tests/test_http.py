"""The shared vendor client: which failures are retried, how long it waits, and what it says."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, SSLError

from suiterun.clock import Deadline
from suiterun.errors import TransientVendorError, VendorError
from suiterun.http import Retry, VendorClient, VendorHTTPError
from tests.support import FakeClock

Reply = Callable[[requests.PreparedRequest], requests.Response] | Exception


def response(status: int, body: Any = None, headers: dict[str, str] | None = None, text: str | None = None) -> Reply:
    def build(request: requests.PreparedRequest) -> requests.Response:
        resp = requests.Response()
        resp.status_code = status
        resp._content = (text if text is not None else json.dumps(body)).encode()
        resp.headers.update({"Content-Type": "text/html" if text is not None else "application/json", **(headers or {})})
        resp.request = request
        resp.url = request.url or ""
        return resp

    return build


def refused() -> Exception:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, "/", reason))  # type: ignore[arg-type]


def reset() -> Exception:
    return requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer")))


class ScriptedAdapter(BaseAdapter):
    """A transport that answers from a script and records what was sent."""

    def __init__(self, replies: list[Reply]) -> None:
        super().__init__()
        self.replies = replies
        self.sent: list[requests.PreparedRequest] = []
        self.timeouts: list[Any] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        self.timeouts.append(kwargs.get("timeout"))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply(request)

    def close(self) -> None:
        pass


def client(replies: list[Reply], clock: FakeClock, *, seconds: float = 600) -> tuple[VendorClient, ScriptedAdapter]:
    adapter = ScriptedAdapter(replies)
    session = requests.Session()
    session.mount("https://", adapter)
    vendor_client = VendorClient(
        vendor="Acme",
        base_url="https://api.acme.test/v1/",
        session=session,
        deadline=Deadline.after(clock, seconds),
        headers={"X-Key": "k-123"},
    )
    return vendor_client, adapter


def test_read_retries_503_429_and_html_then_returns_json(clock: FakeClock) -> None:
    replies = [response(503), response(429, headers={"Retry-After": "7"}), response(200, text="<html>login</html>"), response(200, {"ok": 1})]
    vendor_client, adapter = client(replies, clock)
    assert vendor_client.get("/status", what="the status") == {"ok": 1}
    assert clock.sleeps == [1.0, 7.0, 4.0]  # backoff 1, Retry-After honoured, backoff 4
    assert len(adapter.sent) == 4
    assert adapter.sent[0].url == "https://api.acme.test/v1/status"
    assert adapter.sent[0].headers["X-Key"] == "k-123"


def test_read_retries_connection_errors_and_gives_up_with_a_clear_message(clock: FakeClock) -> None:
    vendor_client, adapter = client([refused(), reset(), refused(), refused()], clock)
    with pytest.raises(TransientVendorError, match=r"cannot reach Acme at api.acme.test \(connection refused\)\. Check api-url"):
        vendor_client.get("/status", what="the status")
    assert len(adapter.sent) == 4


def test_trigger_is_retried_when_the_connection_never_opened(clock: FakeClock) -> None:
    vendor_client, adapter = client([refused(), response(503), response(429), response(200, {"id": "r1"})], clock)
    assert vendor_client.post("/runs", what="the run request", body={"a": 1}) == {"id": "r1"}
    assert len(adapter.sent) == 4
    assert json.loads(adapter.sent[-1].body or b"") == {"a": 1}


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (reset(), "a run may have been created"),
        (requests.ReadTimeout("read timed out"), "a run may have been created"),
        (response(500, {"message": "boom"}), "HTTP 500 to the run request: boom"),
        (response(502), "HTTP 502"),
    ],
)
def test_trigger_is_not_retried_when_a_run_may_exist(reply: Reply, message: str, clock: FakeClock) -> None:
    vendor_client, adapter = client([reply, response(200, {"id": "second"})], clock)
    with pytest.raises(VendorError, match=message):
        vendor_client.post("/runs", what="the run request", body={})
    assert len(adapter.sent) == 1


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"message": "Unauthorized"}, r"Acme rejected the API key \(HTTP 401: Unauthorized\)\. Check that the api-key secret"),
        (403, {"error": "Forbidden"}, r"Acme rejected the API key \(HTTP 403: Forbidden\)"),
        (404, {"detail": "Batch nope not found"}, r"Acme answered HTTP 404 \(not found\) to batch nope: Batch nope not found\. Check the ids"),
        (422, {"errors": ["bad field"]}, r"Acme answered HTTP 422 to batch nope: \[\"bad field\"\]\."),
    ],
)
def test_http_errors_map_to_clear_messages(status: int, body: Any, message: str, clock: FakeClock) -> None:
    vendor_client, _ = client([response(status, body)], clock)
    with pytest.raises(VendorHTTPError, match=message) as raised:
        vendor_client.get("/status", what="batch nope")
    assert raised.value.status == status
    assert "\n" not in str(raised.value)


def test_vendor_specific_message_wins(clock: FakeClock) -> None:
    vendor_client, _ = client([response(402, {"error": "Insufficient credits"})], clock)
    vendor_client.describe_error = lambda status, said, what: f"out of credits ({said})" if status == 402 else None
    with pytest.raises(VendorHTTPError, match=r"^out of credits \(Insufficient credits\)$"):
        vendor_client.post("/runs", what="the run", body={})


def test_redirect_is_never_followed(clock: FakeClock) -> None:
    vendor_client, adapter = client([response(301, headers={"Location": "https://www.acme.test/v1/runs"})], clock)
    with pytest.raises(VendorError, match=r"redirected POST /v1/runs \(HTTP 301\) to https://www.acme.test/v1/runs; set api-url"):
        vendor_client.post("/runs", what="the run", body={})
    assert len(adapter.sent) == 1


def test_html_on_a_trigger_names_the_configuration_problem(clock: FakeClock) -> None:
    vendor_client, _ = client([response(200, text="<!doctype html><html></html>")], clock)
    with pytest.raises(VendorError, match=r"answered the run with HTML \(HTTP 200\); check that api-url points at the Acme API"):
        vendor_client.post("/runs", what="the run", body={})


def test_retries_stay_inside_the_deadline(clock: FakeClock) -> None:
    vendor_client, adapter = client([response(429, headers={"Retry-After": "120"}), response(200, {})], clock, seconds=60)
    with pytest.raises(TransientVendorError, match=r"\(120s\) does not fit before the timeout"):
        vendor_client.get("/status", what="the status")
    assert clock.sleeps == []
    assert len(adapter.sent) == 1


def test_request_timeouts_are_cut_to_the_time_left(clock: FakeClock) -> None:
    vendor_client, adapter = client([response(200, {})], clock, seconds=4)
    vendor_client.get("/status", what="the status")
    assert adapter.timeouts == [(4, 4)]


def test_no_request_once_the_deadline_passed(clock: FakeClock) -> None:
    vendor_client, adapter = client([response(200, {})], clock, seconds=1)
    clock.sleep(2)
    with pytest.raises(TransientVendorError, match="no time left"):
        vendor_client.get("/status", what="the status")
    assert adapter.sent == []


def test_absolute_urls_are_used_as_given(clock: FakeClock) -> None:
    vendor_client, adapter = client([response(200, {})], clock)
    vendor_client.request("GET", "https://other.acme.test/x", what="x", retry=Retry.READ)
    assert adapter.sent[0].url == "https://other.acme.test/x"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (response(404, {"detail": "no such suite"}), "Acme answered HTTP 404 (not found) to the run request: no such suite. Check the ids you"),
        (response(422, {"detail": "labels must be a list"}), "Acme answered HTTP 422 to the run request: labels must be a list, see Acme's API"),
        (response(200, text="<html>app</html>", headers={"Content-Type": "text/html"}), "Acme answered the run request with HTML (HTTP 200)"),
    ],
    ids=["404", "422", "html"],
)
def test_an_error_about_what_was_asked_links_the_vendors_api_page(reply: Reply, message: str, clock: FakeClock) -> None:
    vendor_client, _ = client([reply], clock)
    vendor_client.docs_url = "https://docs.acme.test/api"
    with pytest.raises(VendorError) as raised:
        vendor_client.post("/runs", what="the run request", body={})
    assert message in str(raised.value) and str(raised.value).endswith("Acme's API page, https://docs.acme.test/api.")


def test_a_rejected_key_does_not_send_anyone_to_the_api_page(clock: FakeClock) -> None:
    vendor_client, _ = client([response(401, {"detail": "bad key"})], clock)
    vendor_client.docs_url = "https://docs.acme.test/api"
    with pytest.raises(VendorError) as raised:
        vendor_client.post("/runs", what="the run request", body={})
    assert "API page" not in str(raised.value)


def untrusted() -> Exception:
    """What requests raises when the server's certificate does not verify: the handshake failed, nothing was sent."""
    verify = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate")
    return requests.exceptions.SSLError(MaxRetryError(None, "/", SSLError(verify)))  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_certificate_it_does_not_trust_is_one_clear_error_at_once(method: str, clock: FakeClock) -> None:
    vendor_client, adapter = client([untrusted(), untrusted()], clock)
    with pytest.raises(VendorError) as raised:
        vendor_client.request(method, "/runs", what="the run request", retry=Retry.TRIGGER if method == "POST" else Retry.READ)
    message = str(raised.value)
    assert message == (
        "cannot reach Acme at api.acme.test (its certificate is not trusted: see REQUESTS_CA_BUNDLE or SSL_CERT_FILE); "
        "nothing was sent. Trust its certificate authority, or check api-url."
    )
    assert len(adapter.sent) == 1 and clock.sleeps == []  # not repeated: the certificate would be the same
