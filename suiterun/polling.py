"""The one polling loop every vendor uses: jittered interval, hard deadline, progress lines."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from suiterun.clock import Clock, Deadline
from suiterun.errors import TransientVendorError
from suiterun.results import Snapshot
from suiterun.text import format_duration

JITTER = 0.1  # +-10% of each gap, so matrix jobs do not poll in lockstep
PROGRESS_EVERY = 60.0  # seconds: a progress line at least this often, even when nothing changed
FIRST_READ = 2.0  # seconds after the trigger is accepted: a short run is reported seconds after it ends
MIN_GAP = 1.0  # never read more often than once a second


@dataclass(frozen=True)
class PollSchedule:
    """When to read: the first read `first` seconds after the trigger, each later gap twice the last
    until it reaches `steady` (the poll-interval input), then `steady` on. A run shorter than the
    interval is reported within seconds of its end; a long one costs about three more reads."""

    steady: float
    first: float = FIRST_READ

    @classmethod
    def fixed(cls, interval: float) -> PollSchedule:
        """Every read one whole interval after the last (the schedule before adaptive polling; the benchmark's baseline)."""
        return cls(steady=interval, first=interval)

    @property
    def longest_gap(self) -> float:
        return max(MIN_GAP, self.steady * (1 + JITTER))

    def gaps(self, rng: random.Random) -> Iterator[float]:
        gap = min(self.first, self.steady)
        while True:
            yield max(MIN_GAP, gap * rng.uniform(1 - JITTER, 1 + JITTER))
            gap = min(self.steady, gap * 2)


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
    schedule: PollSchedule,
    progress: Callable[[Snapshot], None],
    on_transient: Callable[[str], None],
    rng: random.Random,
) -> PollResult:
    """Call `read` at the gaps of `schedule` until the snapshot is done or the
    deadline passes. Transient read failures are reported and retried at the next
    gap; any other error propagates. Never sleeps past the deadline."""
    snapshot = first
    last_error = ""
    gaps = schedule.gaps(rng)
    while not snapshot.done:
        deadline.sleep(next(gaps))
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
    """Prints one line whenever the counts change, and at least once a minute: a read whose next one may come
    `next_read_within` seconds later than a minute after the last line prints one now (a line per read when reads are
    more than a minute apart)."""

    def __init__(self, vendor: str, clock: Clock, write: Callable[[str], None], *, next_read_within: float = 0.0) -> None:
        self.vendor = vendor
        self.clock = clock
        self.write = write
        self.next_read_within = next_read_within
        self.started = clock.monotonic()
        self.last_key: tuple[int, ...] | None = None
        self.last_at = self.started

    def __call__(self, snapshot: Snapshot) -> None:
        counts = snapshot.counts
        key = (counts.total, counts.pending, counts.failed + counts.errored, counts.skipped)
        now = self.clock.monotonic()
        if key == self.last_key and now + self.next_read_within - self.last_at < PROGRESS_EVERY:
            return
        self.last_key, self.last_at = key, now
        finished = counts.total - counts.pending
        failed = counts.failed + counts.errored
        self.write(f"{self.vendor}: {finished}/{counts.total} finished, {failed} failed, {format_duration(now - self.started)} elapsed")
