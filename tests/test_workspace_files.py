"""Files the action writes in the workspace belong to the workspace's owner, not to root: the Docker action runs as root,
and a later step on a self-hosted runner (the runner's user) must be able to delete them."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from suiterun import history
from suiterun.context import CIContext
from suiterun.history import History, HistorySettings
from suiterun.reports import ReportFiles, write_reports
from suiterun.results import Outcome, RunStatus, Snapshot, TestResult, TestStatus, Verdict
from suiterun.workflow import Console
from suiterun.workspace_files import give_to_workspace_owner

RUNNER, OTHER = 1000, 2000  # the workspace's owner (the runner's user), and someone else
OUTCOME = Outcome("Acme", Verdict(RunStatus.PASSED, "all passed"), Snapshot((TestResult("Login", TestStatus.PASSED),), done=True), 1.0)


@pytest.fixture
def as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A workspace owned by the runner's user, and this process running as root, as in the Docker action: for real where
    the tests run as root, else simulated (geteuid, chown and stat answer for what this test writes as they would for
    root). Either way os.chown gives a path away and os.stat tells its owner."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    if os.geteuid() == 0:
        os.chown(workspace, RUNNER, RUNNER)
        yield workspace
        return
    owners: dict[str, tuple[int, int]] = {str(workspace): (RUNNER, RUNNER)}
    real_stat = os.stat

    def stat(path: Any, *, dir_fd: int | None = None, follow_symlinks: bool = True) -> os.stat_result:
        result = real_stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
        name = os.path.abspath(os.fspath(path))
        if not name.startswith(str(tmp_path)):
            return result
        fields = list(result[:10])
        fields[4:6] = owners.get(name, (0, 0))  # st_uid, st_gid: what this test writes is root's
        return os.stat_result(fields)

    def chown(path: Any, uid: int, gid: int, *, follow_symlinks: bool = True) -> None:
        owners[os.path.abspath(os.fspath(path))] = (uid, gid)

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "chown", chown)
    yield workspace


def owner(path: Path) -> tuple[int, int]:
    status = os.stat(path, follow_symlinks=False)
    return status.st_uid, status.st_gid


def test_reports_and_the_folders_the_action_made_go_to_the_workspaces_owner(as_root: Path) -> None:
    workspace = as_root
    (workspace / "reports").mkdir()
    os.chown(workspace / "reports", OTHER, OTHER)  # made by an earlier step: not the action's to give away
    files = ReportFiles(junit=Path("reports/suite/junit.xml"), ctrf=Path("ctrf/run.json"))
    written = write_reports(OUTCOME, files, workspace=workspace, stop_ms=0, redact=str)
    assert written == {"junit-file": "reports/suite/junit.xml", "ctrf-file": "ctrf/run.json"}
    for made in ("reports/suite", "reports/suite/junit.xml", "ctrf", "ctrf/run.json"):
        assert owner(workspace / made) == (RUNNER, RUNNER), made
    assert owner(workspace / "reports") == (OTHER, OTHER)
    assert owner(workspace) == (RUNNER, RUNNER)


def test_the_commands_summary_and_outputs_files_too(as_root: Path) -> None:
    workspace = as_root
    console = Console(CIContext(workspace), out=io.StringIO(), summary_file=workspace / "out" / "summary.md", outputs_file=workspace / "outputs.json")
    console.write_summary("# Acme: passed\n")
    console.set_outputs({"status": "passed"})
    assert [owner(workspace / name) for name in ("out", "out/summary.md", "outputs.json")] == [(RUNNER, RUNNER)] * 3


def test_nothing_changes_hands_when_the_workspace_is_roots_or_the_path_is_outside_it(as_root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "junit.xml"
    outside.parent.mkdir()
    outside.write_text("<testsuites/>", encoding="utf-8")
    give_to_workspace_owner(outside, as_root)
    assert owner(outside) == (0, 0) and owner(outside.parent) == (0, 0)
    os.chown(as_root, 0, 0)
    write_reports(OUTCOME, ReportFiles(junit=Path("r/junit.xml")), workspace=as_root, stop_ms=0, redact=str)
    assert owner(as_root / "r") == owner(as_root / "r" / "junit.xml") == (0, 0)


def test_a_process_that_is_not_root_gives_nothing_away(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given: list[Any] = []
    monkeypatch.setattr(os, "geteuid", lambda: 1001)
    monkeypatch.setattr(os, "chown", lambda *args, **kwargs: given.append(args))
    write_reports(OUTCOME, ReportFiles(junit=Path("r/junit.xml")), workspace=tmp_path, stop_ms=0, redact=str)
    assert (tmp_path / "r" / "junit.xml").is_file() and given == []


def test_the_history_file_and_its_folder_too(as_root: Path) -> None:
    workspace = as_root
    settings = HistorySettings(Path("ci/history.json"), keep=30, baseline_branch="main")
    history.update(OUTCOME, settings, History("Acme"), CIContext(workspace), warn=pytest.fail)
    assert [owner(workspace / name) for name in ("ci", "ci/history.json")] == [(RUNNER, RUNNER)] * 2
