"""A griffe extension for the API reference: document the front doors as the functions they are at run time.

``ephemeral_table = front_door(table_spec, ...)`` (and those of the other kinds, and the async twins) builds, at
run time, a function with the parameters and docstring of its spec factory and returns an ``Ephemeral``
(``AsyncEphemeral`` in ``sandboxres.aio``). Static analysis sees only an attribute; this extension replaces it
with a function that has the factory's parameters and docstring, so the reference shows what
``help(sandboxres.ephemeral_table)`` shows.
"""

from __future__ import annotations

import ast
from typing import Any

import griffe

_RETURNS = {("_doors", "sync"): "Ephemeral", ("aio",): "AsyncEphemeral"}


def _kind(factory_name: str) -> str:
    """The kind whose spec factory is ``<kind>_spec``: it lives in the spec module of the kind's home, and its
    handle is ``<Kind>Handle``."""
    return factory_name.removesuffix("_spec")


def _member(module: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        module = module.members[name]
    return module


class FrontDoors(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.name != "sandboxres":
            return
        for module_path, wrapper in _RETURNS.items():
            module = _member(pkg, module_path)
            for name, member in list(module.members.items()):
                if not isinstance(member, griffe.Attribute) or member.value is None:
                    continue
                call = ast.parse(str(member.value), mode="eval").body
                if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "front_door"):
                    continue
                factory_name = ast.unparse(call.args[0])
                kind = _kind(factory_name)
                factory = _member(pkg, ("_kinds", kind, "spec", factory_name))
                function = griffe.Function(
                    name,
                    lineno=member.lineno,
                    endlineno=member.endlineno,
                    parameters=factory.parameters,
                    returns=f"{wrapper}[{kind.capitalize()}Handle]",
                    parent=module,
                )
                if factory.docstring is not None:
                    function.docstring = griffe.Docstring(
                        factory.docstring.value,
                        lineno=factory.docstring.lineno,
                        parent=function,
                        parser=factory.docstring.parser,
                        parser_options=factory.docstring.parser_options,
                    )
                module.set_member(name, function)
