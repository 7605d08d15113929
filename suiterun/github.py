"""The few GitHub REST calls the pull request comment needs, each bounded by the comment's deadline. Only the token of
input 'github-token' is sent, only to GITHUB_API_URL, and every body sent passes the redaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from suiterun.clock import Deadline
from suiterun.concurrency import Overdue
from suiterun.http import CertificatesNotFound, Limits, NoTimeLeft, bounded_request, http_session
from suiterun.http_debug import HttpDebug
from suiterun.text import describe_body

REQUEST_LIMITS = Limits(connect=10.0, read=10.0, whole=10.0)  # one request, start to end
# The author of comments written with the workflow's GITHUB_TOKEN.
WORKFLOW_TOKEN_LOGIN = "github-actions[bot]"


class GitHubError(Exception):
    """GitHub refused or could not be reached; the message is one line a user can act on."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status  # GitHub's HTTP status, 0 when it gave none


class GitHubClient:
    def __init__(self, api_url: str, token: str, deadline: Deadline, redact: Callable[[str], str], debug: HttpDebug | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.deadline = deadline
        self.redact = redact
        self.debug = debug
        self.session: requests.Session | None = None  # opened with the first request, where its failure is a GitHubError
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "suiterun",
        }

    def identity(self) -> str:
        """The login the token writes comments as. The workflow's GITHUB_TOKEN may not read /user (403):
        its comments are github-actions[bot]'s."""
        try:
            user = self.send("GET", "user")
        except GitHubError as exc:
            if exc.status in (403, 404):
                return WORKFLOW_TOKEN_LOGIN
            raise
        return str(user.get("login") or WORKFLOW_TOKEN_LOGIN) if isinstance(user, dict) else WORKFLOW_TOKEN_LOGIN

    def pages(self, path: str) -> Iterator[Mapping[str, Any]]:
        """Every item of a paginated list, following the Link header (on GITHUB_API_URL only)."""
        url: str | None = f"{self.api_url}/{path}?per_page=100"
        while url:
            response = self._request("GET", url, None)
            items = response.json() if _is_json(response) else None
            if not isinstance(items, list):
                raise GitHubError(f"GitHub answered the list of comments with {describe_body(response.text)}; the results are in the job summary.")
            yield from (item for item in items if isinstance(item, dict))
            following = response.links.get("next", {}).get("url")
            url = following if following and following.startswith(self.api_url + "/") else None

    def send(self, method: str, path: str, body: Mapping[str, str] | None = None) -> Any:
        url = path if path.startswith(self.api_url + "/") else f"{self.api_url}/{path}"
        response = self._request(method, url, {key: self.redact(value) for key, value in body.items()} if body else None)
        return response.json() if _is_json(response) else None

    def _request(self, method: str, url: str, body: Mapping[str, str] | None) -> requests.Response:
        try:
            self.session = self.session or http_session()
            response = bounded_request(
                self.session, method, url, deadline=self.deadline, limits=REQUEST_LIMITS, debug=self.debug, json=body, headers=self.headers
            )
        except CertificatesNotFound as exc:
            raise GitHubError(f"{exc} The results are in the job summary.") from None
        except NoTimeLeft:
            raise GitHubError("GitHub did not answer in the time the comment has; the results are in the job summary.") from None
        except (requests.RequestException, Overdue) as exc:
            raise GitHubError(f"GitHub could not be reached ({type(exc).__name__}); the results are in the job summary.") from None
        if response.status_code >= 300:
            raise GitHubError(describe_github_error(response), response.status_code)
        return response


def _is_json(response: requests.Response) -> bool:
    return "json" in response.headers.get("Content-Type", "")


def describe_github_error(response: requests.Response) -> str:
    """One line a user can act on, naming GitHub's answer."""
    try:
        data = response.json()
    except ValueError:
        data = None
    said = describe_body((data.get("message") if isinstance(data, dict) else None) or "no message")
    match response.status_code:
        case 401:
            advice = "the token in input 'github-token' was rejected; pass a valid token"
        case 403:
            advice = (
                "the token may not write comments. A pull request from a fork gets a read-only token; "
                "otherwise give the job permissions: pull-requests: write"
            )
        case 404:
            advice = "the repository or pull request is not visible to the token in input 'github-token'"
        case _:
            advice = "the results are in the job summary"
    return f"GitHub answered {response.status_code} ({said}): {advice}."
