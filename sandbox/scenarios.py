"""Scripted scenarios shared by the vendor emulators, chosen by the API key.

A sandbox API key is `sandbox-<scenario>` optionally followed by `+<fault>`
parts, e.g. `sandbox-mixed+flaky`. Any other key is rejected like a wrong key.
Each emulator turns a script's neutral outcomes (pass/fail/error/...) into its
vendor's own words and shapes.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace

# Neutral outcomes a scripted test can end in; emulators map them to vendor words.
PASS, FAIL, ERROR, TERMINATED, SKIP, UNKNOWN = "pass", "fail", "error", "terminated", "skip", "unknown"
# A test the vendor cannot run at all (TestCLIX: a scenario that is `not recorded`).
UNRUNNABLE = "unrunnable"
# A test that fails on its first execution and passes on every later one (see Executions).
FLAKY = "flaky"
FLAKY_MESSAGE = "Failed on its first execution (the sandbox's flaky-tests scenario); it passes when started again."

INJECTION_NAME = "a | b <img src=x> @someone"
INJECTION_MESSAGE = "::error::x\n::warning title=pwned::y\n##[error]z"
SLOW_SECONDS = 3.0
LONG_SECONDS = 40.0


@dataclass(frozen=True)
class ScriptedTest:
    name: str
    outcome: str
    message: str = ""
    group: str = "Smoke"


@dataclass(frozen=True)
class Script:
    """How one run unfolds: its tests, and when it finishes."""

    tests: tuple[ScriptedTest, ...]
    polls: int = 2  # status reads before the run is complete
    seconds: float | None = None  # or: wall-clock seconds after the trigger
    never: bool = False  # never completes
    extra: dict[str, str] = field(default_factory=dict)  # vendor-specific switches

    def requested(self, position: int) -> ScriptedTest:
        """The test the `position`-th requested test (from 0) follows, where a request names its tests (AIVA single
        runs, Kapptivate): the scenario's test in that place, starting again from the first after its last."""
        return self.tests[position % len(self.tests)]

    def finished(self, reads: int, started: float) -> bool:
        if self.never:
            return False
        if self.seconds is not None:
            return time.time() - started >= self.seconds
        return reads >= self.polls


@dataclass
class Batch:
    """One started batch of scripted tests, with a run id per test and a count of status reads."""

    id: str
    script: Script
    started: float
    run_ids: tuple[str, ...]
    reads: int = 0

    @classmethod
    def start(cls, script: Script) -> Batch:
        return cls(str(uuid.uuid4()), script, time.time(), tuple(str(uuid.uuid4()) for _ in script.tests))


@dataclass
class Executions:
    """How often each test ran, per key and test (its id or name), so that a FLAKY test fails on its first execution
    and passes on every later one: a retry, or another action run with the same key. Forgotten by /_sandbox/reset."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def run(self, key: str, identity: str, test: ScriptedTest) -> ScriptedTest:
        """How this execution of `test` ends: a FLAKY test as a failure the first time, a pass after; others as scripted."""
        self.counts[(key, identity)] += 1
        if test.outcome != FLAKY:
            return test
        if self.counts[(key, identity)] == 1:
            return replace(test, outcome=FAIL, message=FLAKY_MESSAGE)
        return replace(test, outcome=PASS)

    def run_all(self, key: str, script: Script) -> Script:
        """The script as one execution of all its tests (a batch, by name) ends."""
        return replace(script, tests=tuple(self.run(key, test.name, test) for test in script.tests))


def _tests(*specs: tuple[str, str, str]) -> tuple[ScriptedTest, ...]:
    return tuple(ScriptedTest(name, outcome, message) for name, outcome, message in specs)


PASSING = _tests(
    ("Login with valid credentials", PASS, "Logged in and saw the dashboard."),
    ("Search for a product", PASS, "Results list shows matching products."),
    ("Add to cart", PASS, "Cart badge shows 1 item."),
)
MIXED = _tests(
    ("Login with valid credentials", PASS, "Logged in and saw the dashboard."),
    ("Checkout with expired card", FAIL, "Expected the error 'Card expired' but the payment page stayed blank."),
    ("Reset password", ERROR, "The app crashed while opening the reset screen."),
    ("Add to cart", PASS, "Cart badge shows 1 item."),
)
FLAKY_TESTS = _tests(
    ("Login with valid credentials", FLAKY, ""),
    ("Search for a product", FLAKY, ""),
    ("Add to cart", FLAKY, ""),
)
# One failing test and one passing, for TestCLIX's alarm states.
ALARM = _tests(("Checkout with expired card", FAIL, "Expected the error 'Card expired' but the payment page stayed blank."), ("Login", PASS, ""))

SCRIPTS: dict[str, Script] = {
    "pass": Script(PASSING),
    "mixed": Script(MIXED),
    # `mixed`, one change later (the history's story): login broke, the expired card still fails, the reset screen works.
    "mixed-next": Script(
        _tests(
            ("Login with valid credentials", FAIL, "The dashboard never loaded after signing in."),
            ("Checkout with expired card", FAIL, "Expected the error 'Card expired' but the payment page stayed blank."),
            ("Reset password", PASS, "The reset e-mail was sent."),
            ("Add to cart", PASS, "Cart badge shows 1 item."),
        )
    ),
    "terminated": Script(_tests(("Login", TERMINATED, ""), ("Checkout", TERMINATED, ""))),
    "group-error": Script(PASSING, extra={"group_error": "Smoke"}),
    "counter-mismatch": Script(PASSING, extra={"claim_total": "5"}),
    "empty": Script(()),
    "skipped": Script(_tests(("Login", SKIP, "Skipped by rule"))),
    "some-skipped": Script(_tests(("Sign in (pre-step)", SKIP, "Skipped by rule"), ("Search for a product", PASS, ""), ("Add to cart", PASS, ""))),
    # The test a scenario is about comes first, so that a run of one requested test shows it.
    "unknown-status": Script(_tests(("Checkout", UNKNOWN, ""), ("Login", PASS, ""))),
    "injection": Script(_tests((INJECTION_NAME, FAIL, INJECTION_MESSAGE), ("Login", PASS, ""))),
    "unrunnable": Script(_tests(("Checkout", UNRUNNABLE, ""), ("Login", PASS, ""))),
    # Every test fails on its first execution and passes on the next (counted per key and test until /_sandbox/reset):
    # retry-failed makes each pass on its retry. Not the fault `flaky`, which makes the API flaky, not the tests.
    "flaky-tests": Script(FLAKY_TESTS),
    # The account's allowance is used up (Test-Lab: 402 credits; TestCLIX: 403 execution limit).
    "limit": Script(PASSING, extra={"refuse": "limit"}),
    # Every trigger is answered 429 (Test-Lab's rate limit).
    "rate-limited": Script(PASSING, extra={"refuse": "rate"}),
    "quick": Script(PASSING, polls=0),  # over before the first status read
    # TestCLIX: the execute call answers `acknowledged` instead of `queued`, and the first read shows the last run's result.
    "stale": Script(PASSING, extra={"execute_word": "acknowledged"}),
    # TestCLIX: checks that never ran (`not executed`), whose execute answers that word instead of `queued`.
    "first-run": Script(PASSING, extra={"previous": "not executed", "execute_word": "not executed"}),
    # TestCLIX: "Failures to alarm" is 3, so the failed run leaves the test `pass` (what the action cannot see).
    "alarm-threshold": Script(ALARM, extra={"failures_to_alarm": "3"}),
    # TestCLIX: the tests' last errors were acknowledged; a failed run below the threshold leaves `acknowledged`.
    "acknowledged": Script(ALARM, extra={"previous": "acknowledged", "failures_to_alarm": "3"}),
    "slow": Script(PASSING, seconds=SLOW_SECONDS),  # over SLOW_SECONDS after the trigger (the benchmark's short run)
    "long": Script(PASSING, seconds=LONG_SECONDS),  # the benchmark's long run
    "never": Script(PASSING, never=True),
    "many": Script(
        tuple(ScriptedTest(f"Generated test {n:04d}", FAIL if n % 10 == 0 else PASS, "Step 3 failed" if n % 10 == 0 else "") for n in range(2000))
    ),
}

# Faults wrap any scenario; see sandbox.server.Faults for the first four, sandbox.autosana and sandbox.storage for the
# steps of an Autosana upload.
FAULTS = (
    *("flaky", "trigger503", "html", "down", "startfail", "put503", "put403", "confirmfail", "registerfail", "warnings"),
    *("detail200", "automations", "automations-nobatch", "slowtrigger", "otherbuild"),
)


@dataclass(frozen=True)
class KeyChoice:
    scenario: str
    script: Script
    faults: frozenset[str]
    key: str  # the whole key: what the sandbox remembers is per key


def choose(api_key: str | None) -> KeyChoice | None:
    """The scenario and faults a sandbox key asks for, or None for a key the sandbox rejects. Scenarios and faults
    share one namespace (a test checks no name is both), so `sandbox-flaky` is no scenario: the fault `flaky` needs one."""
    if not api_key or not api_key.startswith("sandbox-"):
        return None
    name, *faults = api_key.removeprefix("sandbox-").split("+")
    if name not in SCRIPTS or not set(faults) <= set(FAULTS):
        return None
    return KeyChoice(name, SCRIPTS[name], frozenset(faults), api_key)
