"""The contract every vendor adapter fulfils: trigger, poll, and optional detail fetch."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from suiterun.http import VendorClient
from suiterun.inputs import Common, Inputs
from suiterun.results import Snapshot, TestResult, TestStatus

OptionsT = TypeVar("OptionsT")


class Reporter(Protocol):
    """What an adapter may tell the runner: secrets to mask, warnings to show, and notes
    (a caveat for the summary and the log, without an annotation)."""

    def mask(self, secret: str) -> None: ...

    def warning(self, message: str, *, title: str = "") -> None: ...

    def note(self, message: str) -> None: ...

    def info(self, line: str) -> None: ...


class VendorAdapter(ABC, Generic[OptionsT]):
    """One vendor's API behind the action's interface.

    An adapter is created for one action run and may keep what `trigger`
    learned (run ids, tokens) for `poll`. Text it puts in results is the
    vendor's, untrusted: the templates and log escape it, adapters do not.
    """

    # The `vendor` input value.
    name: ClassVar[str]
    # The vendor's name as users know it, in logs and the summary.
    title: ClassVar[str]
    # Base URL used when `api-url` is empty; "" makes `api-url` required.
    default_api_url: ClassVar[str]
    # The vendor's API page: errors about what the action asked for (HTTP 404, other 4xx, an answer that is not
    # JSON) link it.
    docs_url: ClassVar[str]
    # Vendor-specific inputs this adapter reads (besides the common ones);
    # any other vendor-specific input given with this vendor is rejected.
    inputs: ClassVar[tuple[str, ...]]
    # False for vendors whose API cannot report results: the action reports
    # what it started (`status=triggered`) even when `wait` is true.
    can_poll: ClassVar[bool] = True
    # True for vendors whose answers identify a failed test so that it alone can be started again (`retry`, by the
    # test's `identity`): input retry-failed is an error with any other.
    can_retry: ClassVar[bool] = False

    def __init__(self, client: VendorClient, options: OptionsT, reporter: Reporter) -> None:
        self.client = client
        self.options = options
        self.reporter = reporter

    @classmethod
    @abstractmethod
    def parse_options(cls, inputs: Inputs, common: Common) -> OptionsT:
        """Validate this vendor's own inputs into a frozen options object, or raise InputError. The inputs every
        vendor shares (the key, api-url, wait, allow-http) and the CI context are in `common`, read once."""

    @classmethod
    @abstractmethod
    def auth_headers(cls, api_key: str) -> dict[str, str]:
        """Headers that carry the API key on every request."""

    @classmethod
    def describe_error(cls, status: int, vendor_message: str, what: str) -> str | None:
        """A vendor-specific message for an HTTP error status, or None for the default."""
        return None

    @abstractmethod
    def trigger(self) -> Snapshot:
        """Start the run(s) and report what was started. Called once."""

    def poll(self) -> Snapshot:
        """Read the current state of what `trigger` started."""
        raise NotImplementedError(f"{self.title} cannot report results")

    def retry(self, tests: Sequence[TestResult]) -> Snapshot:
        """Start exactly these failed tests again, each by its `identity`, and report what was started; `poll` then
        reads only them. Called (with `can_retry`) once the run, or the last retry, was polled to done; never with a
        test that passed, nor with one identity twice."""
        raise NotImplementedError(f"{self.title} cannot start a failed test again")

    def add_details(self, snapshot: Snapshot) -> Snapshot:
        """Enrich a finished snapshot (for example, fetch details of failed tests)."""
        return snapshot


class StatusWords:
    """Maps a vendor's status words to TestStatus; an unknown word stays pending
    (so it can never pass a run) and is warned about once."""

    def __init__(self, vendor: str, words: dict[str, TestStatus], reporter: Reporter) -> None:
        self.vendor = vendor
        self.words = {word.lower(): status for word, status in words.items()}
        self.reporter = reporter
        self.unknown: set[str] = set()

    def __call__(self, word: Any) -> TestStatus:
        key = str(word or "").strip().lower()
        if key in self.words:
            return self.words[key]
        if key not in self.unknown:
            self.unknown.add(key)
            self.reporter.warning(
                f"{self.vendor} reported the status '{key}', which this action does not know; "
                "the test is treated as still pending, so the run cannot pass until it changes."
            )
        return TestStatus.PENDING
