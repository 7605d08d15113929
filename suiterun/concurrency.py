"""Work that must not outlast a deadline or hold up the exit: daemon threads the main thread waits for.

The main thread only ever waits (interruptibly: a cancelled job's SIGTERM still ends
the wait at once). A thread that is still blocked when its time is up is abandoned;
being a daemon, it never delays the process's exit.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Overdue(Exception):
    """The work did not finish in the time it was given."""


class _Job:
    def __init__(self, work: Callable[[], Any]) -> None:
        self.work = work
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.work()
        except BaseException as exc:  # handed to the waiting thread, which raises it
            self.error = exc
        finally:
            self.done.set()

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def call_within(seconds: float, work: Callable[[], T]) -> T:
    """Run `work` in a daemon thread and return its result; raise Overdue after `seconds`."""
    job = _Job(work)
    threading.Thread(target=job.run, name="suiterun-work", daemon=True).start()
    if not job.done.wait(max(0.0, seconds)):
        raise Overdue(f"not done within {seconds:g}s")
    result: T = job.result()
    return result


def map_concurrently(work: Callable[[T], R], items: Iterable[T], *, workers: int) -> list[R]:
    """`[work(item) for item in items]`, at most `workers` at a time, in daemon threads; the first error is raised."""
    jobs = [_Job(functools.partial(work, item)) for item in items]
    pending = list(jobs)
    lock = threading.Lock()

    def drain() -> None:
        while True:
            with lock:
                if not pending:
                    return
                job = pending.pop(0)
            job.run()

    for _ in range(min(workers, len(jobs))):
        threading.Thread(target=drain, name="suiterun-worker", daemon=True).start()
    for job in jobs:
        job.done.wait()
    return [job.result() for job in jobs]
