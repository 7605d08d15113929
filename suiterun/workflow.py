"""The runner side: log lines, masks, annotations, step outputs and the job summary."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from actions_toolkit import core
from actions_toolkit.command import issue_command
from actions_toolkit.file_command import prepare_key_value_message

from suiterun.text import log_safe


@dataclass(frozen=True)
class GitHubContext:
    """What the runner tells a step about the workflow run it is part of."""

    workspace: Path
    server_url: str = "https://github.com"
    api_url: str = "https://api.github.com"
    repository: str = ""
    run_id: str = ""
    run_attempt: str = "1"
    run_number: str = ""
    workflow: str = ""
    job: str = ""
    action: str = ""  # the step's id, or a generated `__owner_repo` name for a step without one
    sha: str = ""
    event_name: str = ""
    event_path: str = ""
    output_path: str = ""
    summary_path: str = ""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> GitHubContext:
        def env(name: str, default: str = "") -> str:
            return environ.get(name, "") or default

        return cls(
            workspace=Path(env("GITHUB_WORKSPACE", os.getcwd())),
            server_url=env("GITHUB_SERVER_URL", "https://github.com"),
            api_url=env("GITHUB_API_URL", "https://api.github.com"),
            repository=env("GITHUB_REPOSITORY"),
            run_id=env("GITHUB_RUN_ID"),
            run_attempt=env("GITHUB_RUN_ATTEMPT", "1"),
            run_number=env("GITHUB_RUN_NUMBER"),
            workflow=env("GITHUB_WORKFLOW"),
            job=env("GITHUB_JOB"),
            action=env("GITHUB_ACTION"),
            sha=env("GITHUB_SHA"),
            event_name=env("GITHUB_EVENT_NAME"),
            event_path=env("GITHUB_EVENT_PATH"),
            output_path=env("GITHUB_OUTPUT"),
            summary_path=env("GITHUB_STEP_SUMMARY"),
        )

    @property
    def step_id(self) -> str:
        """The step's `id:` when the workflow gave one ('' for a generated name)."""
        return "" if self.action.startswith("__") else self.action

    @property
    def run_url(self) -> str:
        if not (self.repository and self.run_id):
            return ""
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"


class Workflow:
    """Writes to the runner. Every text that may hold vendor words goes through
    log_safe or the toolkit's command escaping, so it can never become a command."""

    def __init__(self, context: GitHubContext) -> None:
        self.context = context
        self.secrets: list[str] = []

    def mask(self, secret: str) -> None:
        """Mask a secret in the runner's log, and redact it from everything written here."""
        for line in secret.splitlines():
            if line.strip() and line not in self.secrets:
                core.set_secret(line)
                self.secrets.append(line)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def info(self, line: str) -> None:
        core.info(log_safe(self.redact(line), limit=2000))

    def warning(self, message: str, *, title: str = "") -> None:
        self._annotate("warning", message, title)

    def error(self, message: str, *, title: str = "") -> None:
        self._annotate("error", message, title)

    def notice(self, message: str, *, title: str = "") -> None:
        self._annotate("notice", message, title)

    def _annotate(self, kind: str, message: str, title: str) -> None:
        # The toolkit escapes %, CR and LF, so a message cannot start a new command
        # line; flattening keeps the annotation readable.
        properties = {"title": log_safe(self.redact(title), limit=200)} if title else {}
        issue_command(kind, properties, log_safe(self.redact(message), limit=4000))

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        if not self.context.output_path:
            return
        # The runner creates this file; appending also works when a local run did not.
        with open(self.context.output_path, "a", encoding="utf-8") as output:
            for name, value in outputs.items():
                output.write(prepare_key_value_message(name, self.redact(value)) + "\n")

    def write_summary(self, markdown: str) -> None:
        if not self.context.summary_path:
            return
        with open(self.context.summary_path, "a", encoding="utf-8") as summary:
            summary.write(self.redact(markdown).rstrip("\n") + "\n")
