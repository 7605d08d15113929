"""The polling loop: adaptive gaps with jitter, a hard deadline, transient errors tolerated, progress lines."""

from __future__ import annotations

import random

import pytest

from suiterun.clock import Deadline
from suiterun.errors import TransientVendorError, VendorError
from suiterun.polling import MIN_GAP, PollSchedule, ProgressLog, poll_until_done
from suiterun.results import Snapshot, TestResult, TestStatus
from suiterun.text import format_duration
from tests.support import FakeClock


def pending(done: int, total: int = 3, *, finished: bool = False) -> Snapshot:
    tests = tuple(TestResult(f"t{n}", TestStatus.PASSED if n < done else TestStatus.PENDING) for n in range(total))
    return Snapshot(tests, done=finished)


def scripted(*results: Snapshot | Exception) -> tuple[list[int], object]:
    calls: list[int] = []
    queue = list(results)

    def read() -> Snapshot:
        calls.append(1)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return calls, read


def poll(
    read: object, clock: FakeClock, *, seconds: float = 600, interval: float = 10, log: list[str] | None = None, schedule: PollSchedule | None = None
) -> object:
    lines: list[str] = [] if log is None else log
    return poll_until_done(
        read,  # type: ignore[arg-type]
        first=pending(0),
        deadline=Deadline.after(clock, seconds),
        schedule=schedule or PollSchedule.fixed(interval),
        progress=ProgressLog("Acme", clock, lines.append),
        on_transient=lambda message: lines.append(f"transient: {message}"),
        rng=random.Random(1),
    )


def test_polls_until_done_with_jittered_interval(clock: FakeClock) -> None:
    calls, read = scripted(pending(1), pending(2), pending(3, finished=True))
    result = poll(read, clock)
    assert result.snapshot.done and not result.timed_out  # type: ignore[attr-defined]
    assert len(calls) == 3
    assert all(9.0 <= s <= 11.0 for s in clock.sleeps) and len(set(clock.sleeps)) > 1


def test_the_first_read_comes_two_seconds_after_the_trigger_then_gaps_double_up_to_the_interval(clock: FakeClock) -> None:
    calls, read = scripted(*[pending(0)] * 6, pending(3, finished=True))
    poll(read, clock, schedule=PollSchedule(15))
    assert len(calls) == 7
    nominal = [2, 4, 8, 15, 15, 15, 15]
    assert all(0.9 * gap <= slept <= 1.1 * gap for slept, gap in zip(clock.sleeps, nominal, strict=True)), clock.sleeps


@pytest.mark.parametrize("interval", [1, 1.5, 5, 15, 60])
def test_no_gap_is_shorter_than_a_second_or_longer_than_the_interval_with_jitter(interval: float, clock: FakeClock) -> None:
    _, read = scripted(*[pending(0)] * 30, pending(3, finished=True))
    poll(read, clock, schedule=PollSchedule(interval))
    assert all(MIN_GAP <= slept <= max(MIN_GAP, interval * 1.1) for slept in clock.sleeps), clock.sleeps
    assert clock.sleeps[0] <= min(2, interval) * 1.1


def test_a_long_run_costs_at_most_three_more_reads_than_a_fixed_interval() -> None:
    def reads(schedule: PollSchedule, run_seconds: float) -> int:
        clock = FakeClock()
        end = clock.now + run_seconds
        count = 0

        def read() -> Snapshot:
            nonlocal count
            count += 1
            return pending(3, finished=clock.now >= end)

        poll(read, clock, schedule=schedule, seconds=3600)
        return count

    for interval in (5, 15, 30):
        for run_seconds in (120, 600):
            assert reads(PollSchedule(interval), run_seconds) <= reads(PollSchedule.fixed(interval), run_seconds) + 3


def test_deadline_is_never_overslept(clock: FakeClock) -> None:
    start = clock.now
    _, read = scripted(*[pending(0)] * 100)
    result = poll(read, clock, seconds=95, interval=10)
    assert result.timed_out  # type: ignore[attr-defined]
    assert clock.now - start == pytest.approx(95)


def test_transient_errors_are_retried_at_the_next_interval(clock: FakeClock) -> None:
    log: list[str] = []
    calls, read = scripted(TransientVendorError("Acme answered HTTP 503"), pending(3, finished=True))
    result = poll(read, clock, log=log)
    assert result.snapshot.done  # type: ignore[attr-defined]
    assert len(calls) == 2
    assert log[0] == "transient: Acme answered HTTP 503"


def test_transient_error_at_the_deadline_is_remembered(clock: FakeClock) -> None:
    _, read = scripted(*[TransientVendorError("down")] * 20)
    result = poll(read, clock, seconds=30)
    assert result.timed_out and result.last_error == "down"  # type: ignore[attr-defined]


def test_other_errors_propagate(clock: FakeClock) -> None:
    _, read = scripted(VendorError("key rejected"))
    with pytest.raises(VendorError, match="key rejected"):
        poll(read, clock)


def test_progress_line_on_change_and_at_least_once_a_minute(clock: FakeClock) -> None:
    lines: list[str] = []
    progress = ProgressLog("Acme", clock, lines.append)
    progress(pending(0))
    clock.sleep(15)
    progress(pending(0))  # unchanged, 15 s: quiet
    clock.sleep(15)
    progress(pending(1))  # changed
    for _ in range(4):
        clock.sleep(15)
        progress(pending(1))  # unchanged; the 60 s mark prints once
    assert lines == [
        "Acme: 0/3 finished, 0 failed, 0s elapsed",
        "Acme: 1/3 finished, 0 failed, 30s elapsed",
        "Acme: 1/3 finished, 0 failed, 1m30s elapsed",
    ]


@pytest.mark.parametrize("interval", [5, 15, 45])
def test_a_long_quiet_run_prints_a_progress_line_at_least_once_a_minute(interval: float, clock: FakeClock) -> None:
    schedule = PollSchedule(interval)
    printed: list[float] = []
    progress = ProgressLog("Acme", clock, lambda line: printed.append(clock.now), next_read_within=schedule.longest_gap)
    started = clock.now
    poll_until_done(
        lambda: pending(1),
        first=pending(0),
        deadline=Deadline.after(clock, 900),
        schedule=schedule,
        progress=progress,
        on_transient=lambda message: None,
        rng=random.Random(3),
    )
    gaps = [later - earlier for earlier, later in zip([started, *printed], printed, strict=False)]
    assert max(gaps) <= 60 and clock.now - printed[-1] <= 60, gaps
    assert len(printed) <= 900 / 60 * 2  # not a line per read


@pytest.mark.parametrize(("seconds", "text"), [(7, "7s"), (65, "1m05s"), (3723, "1h02m03s"), (0.4, "0s")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
