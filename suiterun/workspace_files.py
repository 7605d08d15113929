"""Files the action leaves in the workspace belong to the workspace's owner, not to root."""

from __future__ import annotations

import os
from pathlib import Path


def give_to_workspace_owner(path: Path, workspace: Path) -> None:
    """Give a file written in the workspace, and the folders on the way to it that root owns (the ones the action
    created), to the owner of the workspace folder: the Docker action runs as root, and later steps on a self-hosted
    runner, running as the runner's user, must be able to delete them. Nothing happens unless this process runs as root
    and the workspace belongs to another user, nor for a path outside the workspace. Where root may not give files away
    (a user namespace, as rootless Docker runs containers in, where root already is the runner's user; a file system
    without owners) the files stay as they are: they were written, and that is what counts."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:  # only root may give a file away (and Windows has no uids)
        return
    try:
        owner = os.stat(workspace)
        parts = path.relative_to(workspace).parts
        if owner.st_uid == 0:
            return
        for depth in range(1, len(parts) + 1):
            item = workspace.joinpath(*parts[:depth])
            if os.stat(item, follow_symlinks=False).st_uid == 0:
                os.chown(item, owner.st_uid, owner.st_gid, follow_symlinks=False)
    except (OSError, ValueError):  # ValueError: a path outside the workspace
        return
