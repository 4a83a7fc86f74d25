"""The checks every resource spec shares, done when a spec is built, before any I/O.

Bad input raises :class:`~sandboxres.SpecError` (a wrong argument: TypeError naming the public function) and
creates nothing. Whole requests are checked against botocore's service model (types, enums, maxima, patterns),
so a value AWS would refuse is refused on every tier alike; the model files are read, no session is made.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sandboxres._engine.durations import check_duration
from sandboxres._engine.errors import SpecError
from sandboxres._engine.settings import timeout_from_env


def check_attr_name(what: str, value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 255:
        raise SpecError(f"{what} must be a non-empty string of at most 255 characters, got {value!r}")
    return value


def check_keep(keep: bool | None) -> bool | None:
    if keep is not None and not isinstance(keep, bool):
        raise SpecError(f"keep must be True, False or None, got {keep!r}")
    return keep


@functools.cache
def _input_shape(service: str, operation: str) -> Any:
    # The model files alone: a session would read the shared config (and fail on a missing AWS_PROFILE).
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel

    model = ServiceModel(create_loader().load_service_model(service, "service-2"), service_name=service)
    return model.operation_model(operation).input_shape


def check_request(service: str, operation: str, request: Mapping[str, Any]) -> None:
    """Validate a whole request (``create_args`` included) against the SDK's model, before any call.

    botocore checks names, types, required members and minimums; the enums, maximums and patterns of the same
    model are checked here too, so that a value AWS would refuse is refused on every tier alike.
    """
    from botocore.exceptions import ParamValidationError
    from botocore.validate import validate_parameters

    shape = _input_shape(service, operation)
    try:
        validate_parameters(dict(request), shape)
    except ParamValidationError as exc:
        raise SpecError(f"the {operation} request is not valid (check create_args): {exc}") from None
    problems = list(_model_problems(request, shape, ""))
    if problems:
        raise SpecError(f"the {operation} request is not valid (check create_args): {'; '.join(problems)}")


@functools.cache
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:  # pragma: no cover - a model pattern Python cannot read is left to the service
        return None


def _model_problems(value: Any, shape: Any, path: str) -> Iterator[str]:
    """What the model's enums, maximums and patterns say about ``value`` (whose types botocore has checked)."""
    meta, kind, where = shape.metadata, shape.type_name, path or "request"
    if kind == "structure":
        for key, item in value.items():
            if key in shape.members:
                yield from _model_problems(item, shape.members[key], f"{path}.{key}" if path else key)
    elif kind in ("list", "map"):
        if "max" in meta and len(value) > meta["max"]:
            yield f"{where} has {len(value)} entries, at most {meta['max']} are allowed"
        if kind == "list":
            for i, item in enumerate(value):
                yield from _model_problems(item, shape.member, f"{path}[{i}]")
        else:
            for key, item in value.items():
                yield from _model_problems(key, shape.key, f"{path} key {key!r}")
                yield from _model_problems(item, shape.value, f"{path}[{key!r}]")
    elif kind == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            yield f"{where}={value!r} is not one of {', '.join(shape.enum)}"
        if "max" in meta and len(value) > meta["max"]:
            yield f"{where} is {len(value)} characters long, at most {meta['max']} are allowed"
        pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and not pattern.fullmatch(value):
            yield f"{where}={value!r} does not match {meta['pattern']}"
    elif kind in ("integer", "long", "float", "double") and "max" in meta and value > meta["max"]:
        yield f"{where}={value!r} is above the maximum {meta['max']}"


def call_spec(factory: Callable[..., Any], public_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
    """``factory(*args, **kwargs)``, but a wrong argument is a TypeError that names the public function the caller
    used (``ephemeral_table()``) and suggests the parameter a typo was meant for."""
    signature = _signature(factory)
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        message = f"{public_name}() {exc}"
        for name in kwargs:
            if name not in signature.parameters:
                close = difflib.get_close_matches(name, list(signature.parameters), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                message = f"{public_name}() got an unexpected keyword argument {name!r}{hint}"
                break
        raise TypeError(message) from None
    return factory(*args, **kwargs)


@functools.cache
def _signature(factory: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(factory)


def check_timeout(kind: str, timeout: float | None, default: float) -> float:
    """``timeout=``, else ``SANDBOXRES_<KIND>_TIMEOUT``, else ``default``: a finite number of seconds > 0."""
    if timeout is None:
        return timeout_from_env(kind, default)
    return check_duration("timeout", timeout)
