"""Every vendor module is registered, complete, and emulated by the sandbox."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import yaml

import vendors
from sandbox import emulators
from sandbox.storage import Storage
from tests.contract import BASE_INPUTS
from tests.support import ROOT
from vendors import ADAPTERS, VENDOR_INPUTS
from vendors.base import VendorAdapter

MODULES = [info.name for info in pkgutil.iter_modules(vendors.__path__) if info.name != "base"]


@pytest.mark.parametrize("module", MODULES)
def test_every_vendor_module_is_registered(module: str) -> None:
    """An adapter module is registered; any other module is a part of one vendor's adapter (`<vendor module>_<part>`)."""
    registered = {adapter.__module__ for adapter in ADAPTERS.values()}
    adapters = [value for value in vars(importlib.import_module(f"vendors.{module}")).values() if _is_adapter_class(value, module)]
    if adapters:
        assert f"vendors.{module}" in registered
    else:
        assert any(module.startswith(name.removeprefix("vendors.") + "_") for name in registered), f"{module} belongs to no vendor"


def _is_adapter_class(value: object, module: str) -> bool:
    return isinstance(value, type) and issubclass(value, VendorAdapter) and value.__module__ == f"vendors.{module}"


@pytest.mark.parametrize("adapter", list(ADAPTERS.values()), ids=lambda adapter: adapter.name)
def test_adapter_declares_its_metadata(adapter: type[VendorAdapter[object]]) -> None:
    assert adapter.name in ADAPTERS and adapter.title
    assert adapter.docs_url.startswith("https://")
    assert adapter.default_api_url == "" or adapter.default_api_url.startswith("https://")
    assert set(adapter.inputs) <= set(VENDOR_INPUTS)


def test_every_vendor_has_a_sandbox_emulator() -> None:
    assert {emulator.prefix for emulator in emulators(Storage())} == set(ADAPTERS)


def test_every_vendor_has_its_contract_inputs_and_a_trace_page() -> None:
    """What a new vendor brings besides its adapter and emulator: its smallest valid inputs for the shared contract and
    fault tests, and its page in docs/vendors/ (the README links it)."""
    assert set(BASE_INPUTS) == set(ADAPTERS)
    assert {page.stem for page in (ROOT / "docs/vendors").glob("*.md")} == set(ADAPTERS)


def test_the_vendor_input_names_every_vendor() -> None:
    description = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"]["vendor"]["description"]
    assert [vendor for vendor in ADAPTERS if vendor not in description] == []
