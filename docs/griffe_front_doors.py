"""A griffe extension for the API reference: document the front doors as the functions they are at run time.

``ephemeral_table = _front_door(table_spec, ...)`` (and its bucket, queue and async twins) builds, at run time, a
function with the parameters and docstring of its spec factory and returns an ``Ephemeral`` (``AsyncEphemeral``
in ``sandboxres.aio``). Static analysis sees only an attribute; this extension replaces it with a function that
has the factory's parameters and docstring, so the reference shows what ``help(sandboxres.ephemeral_table)``
shows.
"""

from __future__ import annotations

import ast
from typing import Any

import griffe

_RETURNS = {"_ephemeral": "Ephemeral", "aio": "AsyncEphemeral"}
_HANDLES = {"table_spec": "TableHandle", "bucket_spec": "BucketHandle", "queue_spec": "QueueHandle"}


class FrontDoors(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.name != "sandboxres":
            return
        specs = pkg.members["_specs"]
        for module_name, wrapper in _RETURNS.items():
            module = pkg.members[module_name]
            for name, member in list(module.members.items()):
                if not isinstance(member, griffe.Attribute) or member.value is None:
                    continue
                call = ast.parse(str(member.value), mode="eval").body
                if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "_front_door"):
                    continue
                factory_name = ast.unparse(call.args[0])
                factory = specs.members[factory_name]
                function = griffe.Function(
                    name,
                    lineno=member.lineno,
                    endlineno=member.endlineno,
                    parameters=factory.parameters,
                    returns=f"{wrapper}[{_HANDLES[factory_name]}]",
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
