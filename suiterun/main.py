"""The one error boundary every door runs (`execute`), and the action's door (`main`, from entrypoint.py).

The doors are thin: `main` and `suiterun.cli` (the `suiterun run` command) each build the context and the Workflow to
report to, and call `execute`: settings in, one vendor run (suiterun.engine), everything written out (suiterun.outputs).
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Mapping
from enum import IntEnum

import requests

from suiterun.clock import Clock, SystemClock
from suiterun.context import CIContext
from suiterun.engine import RunReporter, RunState, run_action
from suiterun.errors import ActionError, InputError, TimeoutReached
from suiterun.history import History, open_history
from suiterun.http import http_session
from suiterun.inputs import Inputs
from suiterun.outputs import Phrase, publish
from suiterun.registry import ADAPTERS
from suiterun.results import GREEN, Outcome, RunStatus, Verdict, fails_step
from suiterun.settings import Reporting, Settings
from suiterun.workflow import Workflow, reporting_to


def as_written(message: str) -> str:
    """The action's own terms: inputs, as a workflow file names them."""
    return message


class ExitCode(IntEnum):
    """The same for every door (README: Exit codes)."""

    OK = 0  # passed, triggered or uploaded, or fail-on says the step passes
    FAILED = 1  # the run failed by fail-on: failed tests, cancelled
    INPUT = 2  # a usage or input error
    ERROR = 3  # a vendor, network or timeout error


def execute(
    environ: Mapping[str, str],
    workflow: Workflow,
    *,
    session: requests.Session | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    phrase: Phrase = as_written,
) -> ExitCode:
    """Run once and return the exit code. Every failure ends here as one error line,
    a summary and `status=error`, never a traceback. `phrase` puts an input error in
    the door's terms (the command's options, not the action's inputs)."""
    clock = clock or SystemClock()
    inputs = Inputs(environ)
    # Before anything else is printed. A key too short to be real is refused below, not masked.
    workflow.mask(inputs.get("api-key"))
    workflow.mask(inputs.get("github-token"))
    state = RunState(vendor=_vendor_title(inputs))
    reporting = Reporting()  # until the inputs are read: what a run with wrong inputs reports with
    history: History | None = None
    # A cancelled job stops the step with SIGINT or SIGTERM: both end the wait
    # below as KeyboardInterrupt, so the summary and outputs are still written.
    previous_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        settings = Settings.from_environ(environ, workflow.context)
        reporting = settings.reporting
        if reporting.history:  # read before the run; written back with it by publish (not on an input error: nothing ran)
            history = open_history(reporting.history, settings.adapter.name, workflow.context.workspace, RunReporter(workflow, state).warning)
        outcome = run_action(settings, session=session or http_session(), clock=clock, workflow=workflow, rng=rng or random.Random(), state=state)
    except TimeoutReached as exc:
        outcome = _error_outcome(state, str(exc), clock, status=RunStatus.TIMEOUT)
    except ActionError as exc:
        by_input = isinstance(exc, InputError)
        outcome = _error_outcome(state, phrase(str(exc)) if by_input else str(exc), clock, by_input=by_input)
    except KeyboardInterrupt:
        message = "The job was cancelled while the action was running; the vendor's run may still be going."
        outcome = _error_outcome(state, message, clock, status=RunStatus.CANCELLED)
    except Exception as exc:  # a bug: still one line, a summary and outputs
        outcome = _error_outcome(state, f"Internal error ({type(exc).__name__}: {exc}). Please report it with this log.", clock)
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
    try:
        outcome = publish(outcome, workflow=workflow, reporting=reporting, clock=clock, phrase=phrase, history=history)
    except Exception as exc:
        workflow.error(f"Could not write the results ({type(exc).__name__}: {exc}).")
        return ExitCode.ERROR
    title = f"{outcome.vendor}: {outcome.status.value}"
    fails = fails_step(outcome, reporting.fail_on)
    if fails:
        workflow.error(outcome.verdict.reason, title=title)
    elif outcome.status not in GREEN:  # fail-on let it pass: visible, but not red
        workflow.warning(outcome.verdict.reason, title=title)
    return exit_code(outcome, fails=fails)


def exit_code(outcome: Outcome, *, fails: bool) -> ExitCode:
    if not fails:
        return ExitCode.OK
    if outcome.verdict.by_input:
        return ExitCode.INPUT
    if outcome.status in (RunStatus.FAILED, RunStatus.CANCELLED):
        return ExitCode.FAILED
    return ExitCode.ERROR


def main(
    environ: Mapping[str, str] = os.environ,
    *,
    session: requests.Session | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> int:
    """The action's door: inputs from INPUT_* variables, results to the runner (or, outside
    GitHub Actions, to the terminal, without workflow commands)."""
    return int(execute(environ, reporting_to(CIContext.from_environ(environ)), session=session, clock=clock, rng=rng))


def _vendor_title(inputs: Inputs) -> str:
    """The vendor's name for messages, when the `vendor` input names one (even if other inputs are wrong)."""
    adapter = ADAPTERS.get(inputs.get("vendor").lower())
    return adapter.title if adapter else RunState.vendor


def _error_outcome(state: RunState, message: str, clock: Clock, *, status: RunStatus = RunStatus.ERROR, by_input: bool = False) -> Outcome:
    elapsed = clock.monotonic() - state.started if state.started else 0.0
    return Outcome(state.vendor, Verdict(status, message, by_input=by_input), state.snapshot, elapsed, tuple(state.warnings))
