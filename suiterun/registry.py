"""The vendor adapters, wherever they are installed: `vendors/` beside this package in a checkout
(the layout the action and its image use), `suiterun/vendors` in the wheel (no generic top-level
name in site-packages). The two never exist side by side, so no adapter is imported twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vendors import ADAPTERS, VENDOR_INPUTS
    from vendors.base import VendorAdapter
else:
    try:
        from suiterun.vendors import ADAPTERS, VENDOR_INPUTS
        from suiterun.vendors.base import VendorAdapter
    except ModuleNotFoundError as exc:
        if exc.name != "suiterun.vendors":
            raise
        from vendors import ADAPTERS, VENDOR_INPUTS
        from vendors.base import VendorAdapter

__all__ = ["ADAPTERS", "VENDOR_INPUTS", "VendorAdapter"]
