"""Autosana: an iOS build checked by what it holds, before anything is sent.

Autosana decides where an iOS build runs by its file name: an `.ipa` on a real device, a zipped `.app` on the
simulator (autosana-ci's entrypoint.sh, https://github.com/Autosana/autosana-ci/blob/main/entrypoint.sh). Its CLI
looks inside before it uploads (`inspect_build` in autosana_cli/builds.py, https://pypi.org/project/autosana/): an
`.ipa` must hold `Payload/<App>.app/Info.plist` built for devices (`iphoneos`), a zipped `.app` must hold
`<App>.app/Info.plist` at its root built for the simulator (`iphonesimulator`). The same checks here: a wrong file is an
input error naming it, not a build Autosana accepts and cannot run.
"""

from __future__ import annotations

import plistlib
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from suiterun.errors import InputError

DEVICE, SIMULATOR = "iphoneos", "iphonesimulator"
# An Info.plist is a few KiB; a bigger entry is not read (a zip bomb would otherwise be inflated into memory).
MAX_INFO_PLIST = 1024 * 1024


def check_ios_build(path: Path) -> None:
    """Raise InputError unless `path` (an .ipa or a zipped .app) holds one app built for where Autosana runs it."""
    ipa = path.suffix.lower() == ".ipa"
    layout = "Payload/<App>.app/Info.plist" if ipa else "<App>.app/Info.plist"
    where = f"Input 'build-path': '{path.name}'"
    try:
        with zipfile.ZipFile(path) as archive:
            entry = next((info for info in archive.infolist() if _is_app_info(info.filename, ipa=ipa)), None)
            if entry is None:
                fix = "export the .ipa from Xcode (Product > Archive)" if ipa else "zip the .app folder itself (its name ends in .app)"
                raise InputError(f"{where} holds no {layout}, so it cannot be installed: {fix}.")
            if entry.file_size > MAX_INFO_PLIST:
                raise InputError(f"{where}: its {entry.filename} is {entry.file_size} bytes, too big to be an app's Info.plist.")
            info = archive.read(entry)
    except zipfile.BadZipFile:
        kind = "an .ipa is a zip archive holding Payload/<App>.app" if ipa else "a zipped .app is a zip archive holding <App>.app"
        raise InputError(f"{where} is not a zip archive: {kind}; check that the build step produced it.") from None
    except (OSError, RuntimeError, NotImplementedError) as exc:  # unreadable, encrypted, or an unknown compression
        raise InputError(f"{where}: its Info.plist cannot be read ({exc}).") from None
    target = _target(info)
    built = f"an app built for {target}" if target else "an app whose Info.plist names neither iphoneos nor iphonesimulator"
    if ipa and target != DEVICE:
        raise InputError(
            f"{where} holds {built}, not one for devices (iphoneos): Autosana runs an .ipa on a real iPhone; "
            "for the simulator, upload the zipped .app under its own name (.zip)."
        )
    if not ipa and target != SIMULATOR:
        raise InputError(
            f"{where} holds {built}, not one for the simulator (iphonesimulator): Autosana runs a zipped .app on the iOS "
            "simulator; build for a simulator destination, or upload an .ipa for real devices."
        )


def _is_app_info(name: str, *, ipa: bool) -> bool:
    """`Payload/<App>.app/Info.plist` in an .ipa, `<App>.app/Info.plist` in a zipped .app (as Autosana's CLI looks)."""
    parts = PurePosixPath(name).parts
    expected = ("Payload", "*.app", "Info.plist") if ipa else ("*.app", "Info.plist")
    return len(parts) == len(expected) and parts[-1] == "Info.plist" and parts[-2].endswith(".app") and (not ipa or parts[0] == "Payload")


def _target(data: bytes) -> str:
    """The platform an Info.plist (binary or XML) says the app is built for (`iphoneos`, `iphonesimulator`, ...), as
    Autosana's CLI reads it: DTPlatformName, else the first of those two in CFBundleSupportedPlatforms; '' for none."""
    try:
        info: Any = plistlib.loads(data)
    except Exception:  # plistlib raises many kinds on a damaged file; each means "cannot tell"
        return ""
    if not isinstance(info, dict):
        return ""
    platform = str(info.get("DTPlatformName") or "").lower()
    if platform:
        return platform
    supported = info.get("CFBundleSupportedPlatforms")
    named = [str(item).lower() for item in supported] if isinstance(supported, list) else []
    return next((item for item in named if item in (DEVICE, SIMULATOR)), "")
