"""The one polling loop every vendor uses: jittered interval, hard deadline, progress lines."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from suiterun.clock import Clock, Deadline
from suiterun.errors import TransientVendorError
from suiterun.results import Snapshot

JITTER = 0.1  # +-10% of the interval, so matrix jobs do not poll in lockstep
PROGRESS_EVERY = 60.0  # seconds: a progress line at least this often, even when nothing changed


@dataclass(frozen=True)
class PollResult:
    snapshot: Snapshot
    timed_out: bool
    last_error: str = ""  # the last transient error, if reading failed when time ran out


def poll_until_done(
    read: Callable[[], Snapshot],
    *,
    first: Snapshot,
    deadline: Deadline,
    interval: float,
    progress: Callable[[Snapshot], None],
    on_transient: Callable[[str], None],
    rng: random.Random,
) -> PollResult:
    """Call `read` every `interval` (with jitter) until the snapshot is done or the
    deadline passes. Transient read failures are reported and retried at the next
    interval; any other error propagates. Never sleeps past the deadline."""
    snapshot = first
    last_error = ""
    while not snapshot.done:
        deadline.sleep(interval * rng.uniform(1 - JITTER, 1 + JITTER))
        if deadline.expired():
            return PollResult(snapshot, timed_out=True, last_error=last_error)
        try:
            snapshot = read()
        except TransientVendorError as exc:
            last_error = str(exc)
            on_transient(last_error)
            continue
        last_error = ""
        progress(snapshot)
    return PollResult(snapshot, timed_out=False)


class ProgressLog:
    """Prints one line whenever the counts change, and at least once a minute."""

    def __init__(self, vendor: str, clock: Clock, write: Callable[[str], None]) -> None:
        self.vendor = vendor
        self.clock = clock
        self.write = write
        self.started = clock.monotonic()
        self.last_key: tuple[int, ...] | None = None
        self.last_at = self.started

    def __call__(self, snapshot: Snapshot) -> None:
        counts = snapshot.counts
        key = (counts.total, counts.pending, counts.failed + counts.errored, counts.skipped)
        now = self.clock.monotonic()
        if key == self.last_key and now - self.last_at < PROGRESS_EVERY:
            return
        self.last_key, self.last_at = key, now
        finished = counts.total - counts.pending
        failed = counts.failed + counts.errored
        self.write(f"{self.vendor}: {finished}/{counts.total} finished, {failed} failed, {format_duration(now - self.started)} elapsed")


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
