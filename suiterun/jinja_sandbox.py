"""The environment every template renders in: Jinja's sandbox with strict undefined, bounded in time and in size.
Imported only when a template is rendered (suiterun.render), since Jinja costs 25 ms to import."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment, safe_range

from suiterun import render as limits  # read when used: RENDER_SECONDS and RENDER_MAX_CHARACTERS


class BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, with every call, attribute read and `range` checking the render's time, and
    `*`/`**` refusing results too big to render (`"x" * 10**9`)."""

    intercepted_binops = frozenset({"*", "**"})
    render_ends = float("inf")  # set by the renderer before each render

    def check_time(self) -> None:
        if time.monotonic() > self.render_ends:
            raise limits.RenderBudgetExceeded(f"rendering took longer than {limits.RENDER_SECONDS:g}s")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self.check_time()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.check_time()
        return super().getitem(obj, argument)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and right > 64 and left not in (0, 1, -1):
            raise OverflowError(f"{left!r} ** {right!r} is too large")
        if operator == "*":
            sized, count = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(count, int) and isinstance(sized, str | list | tuple) and len(sized) * count > limits.RENDER_MAX_CHARACTERS:
                raise OverflowError("a repeated text or list this long is too large")
        return super().call_binop(context, operator, left, right)

    def bounded_range(self, *args: int) -> range:
        self.check_time()
        return safe_range(*args)


def bounded_environment(directory: Path, *, filters: Mapping[str, Callable[..., Any]]) -> BoundedEnvironment:
    """Templates from `directory` (the built-in ones, or the user's workspace), with the action's filters."""
    env = BoundedEnvironment(
        loader=FileSystemLoader(directory),
        undefined=StrictUndefined,
        autoescape=False,  # Markdown, not HTML: vendor text is escaped by the `md` filter
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["range"] = env.bounded_range
    env.filters.update(filters)
    return env
