"""What a flow run says to people: its progress lines, and a user's error in one line instead of a traceback.

Prefect logs any exception that leaves a flow with its traceback at ERROR level. A ``SnowlandError`` is the user's
to fix and its message says how, so a flow decorated with ``user_errors_in_one_line`` logs that message alone and
ends in a ``Failed`` state that carries the error: the caller of the flow still gets the error raised (with
``return_state=True``, a failed state whose ``result()`` raises it). Any other exception is a bug and keeps its
traceback. A subflow leaves the saying to its parent flow, so the error is said once.

    @flow(name="snow-cover")
    @user_errors_in_one_line
    def snow_cover(...): ...
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from prefect import get_run_logger
from prefect.context import FlowRunContext
from prefect.exceptions import MissingContextError
from prefect.states import Failed

from products.errors import SnowlandError

F = TypeVar("F", bound=Callable[..., Any])


def log(message: str) -> None:
    """``message`` to the flow run's log, or printed outside a run."""
    try:
        get_run_logger().info(message)
    except MissingContextError:
        print(message)


def _run_context() -> FlowRunContext | None:
    context = FlowRunContext.get()
    return context if context is not None and context.flow_run is not None else None


def user_errors_in_one_line(fn: F) -> F:
    """``fn`` (a flow's function) with its ``SnowlandError`` logged as one ERROR line and returned as a failed state."""

    @functools.wraps(fn)
    def flow_body(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SnowlandError as err:
            context = _run_context()
            if context is None:  # called as a plain function (``flow.fn``): nothing to log into
                raise
            message = " ".join(str(err).split())
            if not context.flow_run.parent_task_run_id:  # a subflow's parent says it
                get_run_logger().error(message)
            return Failed(message=message, data=err)

    # Prefect resolves the annotations in the wrapper's module, where the flow module's names are unknown: give it
    # the flow's signature with its annotations already resolved.
    flow_body.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    return flow_body  # type: ignore[return-value]
