"""A description of the public API: every name of ``sandboxres.__all__`` and ``sandboxres.aio.__all__`` with
its kind and signature (functions, constructors and the public methods and properties of classes).

``python -m tests.api.public_api > tests/api/api-0.1.0.json`` records a release's API; ``test_public_api``
compares the code against the recorded one: a name, parameter, default or attribute may be added, never removed
or changed.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import sys
from typing import Any

MODULES = ("sandboxres", "sandboxres.aio")


def _signature(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(?)"


def _parameters(obj: Any) -> list[dict[str, str]]:
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        {
            "name": p.name,
            "kind": p.kind.name,
            "default": "" if p.default is inspect.Parameter.empty else repr(p.default),
        }
        for p in parameters
    ]


def _members(cls: type) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name in sorted(dir(cls)):
        if name.startswith("_") and name not in ("__enter__", "__exit__", "__aenter__", "__aexit__"):
            continue
        if any(name in vars(base) for base in (BaseException, object)) and name not in vars(cls):
            continue
        value = inspect.getattr_static(cls, name)
        if isinstance(value, (property, cached_property_type())):
            members[name] = {"kind": "property"}
        elif callable(value) or isinstance(value, (staticmethod, classmethod)):
            members[name] = {"kind": "method", "parameters": _parameters(getattr(cls, name))}
        else:
            members[name] = {"kind": "attribute"}
    if dataclasses.is_dataclass(cls):
        for field in dataclasses.fields(cls):
            if not field.name.startswith("_"):
                members[field.name] = {"kind": "field"}
    return members


def cached_property_type() -> type:
    import functools

    return functools.cached_property


def describe(module_name: str) -> dict[str, Any]:
    module = importlib.import_module(module_name)
    names: dict[str, Any] = {}
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj):
            names[name] = {
                "kind": "class",
                "bases": [base.__name__ for base in obj.__mro__[1:] if base is not object],
                "parameters": _parameters(obj),
                "members": _members(obj),
            }
        elif callable(obj):
            names[name] = {"kind": "function", "parameters": _parameters(obj)}
        elif isinstance(obj, (str, int, float)):
            names[name] = {"kind": "constant", "value": obj if name != "__version__" else "(any)"}
        else:
            names[name] = {"kind": "object", "type": type(obj).__name__, "members": _members(type(obj))}
    return names


def api() -> dict[str, Any]:
    return {module: describe(module) for module in MODULES}


if __name__ == "__main__":
    json.dump(api(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
