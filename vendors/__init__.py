"""Vendor adapters, one module each, and the registry that maps the `vendor` input to them."""

from __future__ import annotations

from typing import Any

from .aiva import AivaAdapter
from .autosana import AutosanaAdapter
from .base import VendorAdapter
from .kapptivate import KapptivateAdapter
from .test_lab import TestLabAdapter
from .testclix import TestClixAdapter

ADAPTERS: dict[str, type[VendorAdapter[Any]]] = {
    adapter.name: adapter for adapter in (AivaAdapter, AutosanaAdapter, KapptivateAdapter, TestLabAdapter, TestClixAdapter)
}

# Every vendor-specific input; each adapter accepts its own subset and rejects the rest.
VENDOR_INPUTS: tuple[str, ...] = tuple(dict.fromkeys(name for adapter in ADAPTERS.values() for name in adapter.inputs))
