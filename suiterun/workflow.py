"""Where a run reports to: the GitHub Actions runner (workflow commands, step outputs, job summary)
or a terminal elsewhere (plain lines, an outputs JSON file, a Markdown summary file). Debug lines (one per HTTP request)
only when the runner's debug logging (RUNNER_DEBUG=1) or the command's --verbose asks for them."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from suiterun.context import CIContext
from suiterun.http_debug import HttpDebug
from suiterun.secrets import Secrets, encodable
from suiterun.text import log_safe, terminal_safe
from suiterun.workspace_files import give_to_workspace_owner


class Workflow:
    """Writes what a run has to say. Every text passes the secrets' redaction, and every
    log line is flattened so vendor words can never become a workflow command."""

    # One annotation per failed test shows on the run page and the pull request; a terminal has the result lines already.
    annotates_tests = True

    def __init__(self, context: CIContext, secrets: Secrets | None = None, out: TextIO | None = None, *, verbose: bool = False) -> None:
        self.context = context
        self.secrets = secrets or Secrets()
        self.out = out
        self.debugging = verbose or context.runner_debug

    @property
    def http_debug(self) -> HttpDebug | None:
        """Where every HTTP request's debug line goes; None when debugging is off (nothing is prepared for it then)."""
        return HttpDebug(self.debug, self.secrets) if self.debugging else None

    def mask(self, secret: str) -> None:
        """Redact a secret from everything written here (and mask it in the runner's log)."""
        for line in self.secrets.add(secret):
            self._mask_line(line)

    def redact(self, text: str) -> str:
        return self.secrets.redact(encodable(text))

    def info(self, line: str) -> None:
        indent = line[: len(line) - len(line.lstrip(" "))]
        self._print(indent + log_safe(self.redact(line), limit=2000))

    def debug(self, line: str) -> None:
        if self.debugging:
            self._debug(log_safe(self.redact(line), limit=2000))

    def warning(self, message: str, *, title: str = "") -> None:
        self._annotate("warning", message, title)

    def error(self, message: str, *, title: str = "") -> None:
        self._annotate("error", message, title)

    def notice(self, message: str, *, title: str = "") -> None:
        self._annotate("notice", message, title)

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        raise NotImplementedError

    def write_summary(self, markdown: str) -> None:
        raise NotImplementedError

    def _mask_line(self, line: str) -> None:
        pass

    def _debug(self, line: str) -> None:
        self._print(f"debug: {line}")

    def _annotate(self, kind: str, message: str, title: str) -> None:
        raise NotImplementedError

    def _print(self, line: str) -> None:
        out = self.out or sys.stdout
        out.write(terminal_safe(line) + "\n")
        out.flush()

    def _write_file(self, what: str, path: str, text: str, *, mode: str = "a") -> bool:
        """Write a runner file (mode "x": a new one, in folders created as needed); a failure is a warning, never the
        end of the report (the log still has the result)."""
        try:
            if mode == "x":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            with open(path, mode, encoding="utf-8", errors="replace") as file:
                file.write(self.redact(text))
            if mode == "x":
                give_to_workspace_owner(Path(path), self.context.workspace)
        except OSError as exc:
            self.warning(f"Could not write the {what} to {path} ({exc.strerror or exc}); the log above has the result.", title=f"No {what}")
            return False
        return True


class GitHubActions(Workflow):
    """A step of a GitHub Actions job: workflow commands on stdout, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY."""

    def _mask_line(self, line: str) -> None:
        self._print(f"::add-mask::{_escape_data(line)}")

    def _debug(self, line: str) -> None:
        # The runner shows ::debug:: only with its debug logging on; asked for by --verbose alone, the line is plain.
        if self.context.runner_debug:
            self._print(f"::debug::{_escape_data(line)}")
        else:
            super()._debug(line)

    def _annotate(self, kind: str, message: str, title: str) -> None:
        # Escaping keeps a message from starting a new command line; flattening keeps it readable.
        properties = f" title={_escape_property(log_safe(self.redact(title), limit=200))}" if title else ""
        self._print(f"::{kind}{properties}::{_escape_data(log_safe(self.redact(message), limit=4000))}")

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        if not self.context.output_path:
            return
        # The runner creates this file; appending also works when a local run did not.
        self._write_file("step outputs", self.context.output_path, "".join(_output_block(name, value) for name, value in outputs.items()))

    def write_summary(self, markdown: str) -> None:
        if self.context.summary_path:
            self._write_file("job summary", self.context.summary_path, markdown.rstrip("\n") + "\n")


class Console(Workflow):
    """Anywhere else (GitLab, Jenkins, a terminal): plain lines and no workflow commands. The outputs go to
    `outputs_file` as one JSON object and the Markdown summary to `summary_file`, when given."""

    def __init__(
        self,
        context: CIContext,
        secrets: Secrets | None = None,
        out: TextIO | None = None,
        *,
        verbose: bool = False,
        outputs_file: Path | None = None,
        summary_file: Path | None = None,
    ) -> None:
        super().__init__(context, secrets, out, verbose=verbose)
        self.outputs_file = outputs_file
        self.summary_file = summary_file
        # Both files are new (checked before the run): created exclusively, so not even a symlink put there since is followed.
        self.summary_mode = "x"  # this run's first summary text creates the file; later notes are appended

    annotates_tests = False

    def _annotate(self, kind: str, message: str, title: str) -> None:
        heading = f"{kind.capitalize()}: {title}: " if title else f"{kind.capitalize()}: "
        self._print(log_safe(self.redact(heading + message), limit=4000))

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        if self.outputs_file:
            self._write_file("outputs file", str(self.outputs_file), json.dumps(dict(outputs), ensure_ascii=False, indent=2) + "\n", mode="x")

    def write_summary(self, markdown: str) -> None:
        if self.summary_file:
            self._write_file("summary file", str(self.summary_file), markdown.rstrip("\n") + "\n", mode=self.summary_mode)
            self.summary_mode = "a"


def reporting_to(
    context: CIContext, *, verbose: bool = False, outputs_file: Path | None = None, summary_file: Path | None = None
) -> GitHubActions | Console:
    """Where this process reports, for every door: the runner inside a GitHub Actions step, else the terminal or CI log;
    with debug lines when `verbose` (the command's --verbose) or the runner's debug logging asks for them.

    The runner reads a step's output as UTF-8 on every OS, but Python writes a pipe in the Windows code page (cp1252 on
    GitHub's Windows runners), which has no letters for most test names in other scripts; so inside GitHub Actions stdout
    is UTF-8, and elsewhere a character the terminal's encoding lacks is escaped instead of ending the report.
    """
    if context.in_actions:
        _reconfigure_stdout(encoding="utf-8")
        return GitHubActions(context, verbose=verbose)
    _reconfigure_stdout(errors="backslashreplace")
    return Console(context, verbose=verbose, outputs_file=outputs_file, summary_file=summary_file)


def _reconfigure_stdout(*, encoding: str | None = None, errors: str | None = None) -> None:
    if isinstance(sys.stdout, io.TextIOWrapper):  # not when a test or an embedding program replaced it
        sys.stdout.reconfigure(encoding=encoding, errors=errors)  # None keeps what it was


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _output_block(name: str, value: str) -> str:
    """One `name<<delimiter` block of GITHUB_OUTPUT; the delimiter is random, so no value can end the block early."""
    delimiter = f"ghadelimiter_{os.urandom(16).hex()}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"
