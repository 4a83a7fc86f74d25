"""The public API stays compatible with the last release: names, parameters, defaults, members may be added,
never removed or changed; every public name reports its public module (as ``help()`` and documentation tools
show it)."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from tests.api.public_api import MODULES, api

RECORDED = json.loads((Path(__file__).parent / "api" / "api-0.1.0.json").read_text())
CURRENT = api()


def _params_problems(where: str, old: list[dict[str, str]], new: list[dict[str, str]]) -> list[str]:
    problems = []
    by_name = {p["name"]: p for p in new}
    for position, param in enumerate(old):
        now = by_name.get(param["name"])
        if now is None:
            problems.append(f"{where}: parameter {param['name']!r} was removed")
            continue
        if now["kind"] != param["kind"]:
            problems.append(f"{where}: parameter {param['name']!r} is now {now['kind']}, was {param['kind']}")
        if now["default"] != param["default"]:
            problems.append(
                f"{where}: parameter {param['name']!r} defaults to {now['default']}, was {param['default']}"
            )
        positional = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")
        if param["kind"] in positional and new.index(now) != position:
            problems.append(f"{where}: positional parameter {param['name']!r} moved")
    for param in new:
        if (
            param["name"] not in {p["name"] for p in old}
            and param["default"] == ""
            and param["kind"]
            not in (
                "VAR_POSITIONAL",
                "VAR_KEYWORD",
            )
        ):
            problems.append(f"{where}: new parameter {param['name']!r} has no default")
    return problems


def compatibility_problems(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    problems = []
    for module, names in recorded.items():
        for name, old in names.items():
            where = f"{module}.{name}"
            new = current.get(module, {}).get(name)
            if new is None:
                problems.append(f"{where} was removed")
                continue
            if new["kind"] != old["kind"]:
                problems.append(f"{where} is now a {new['kind']}, was a {old['kind']}")
                continue
            if old["kind"] == "constant" and old["value"] != new["value"]:
                problems.append(f"{where} is now {new['value']!r}, was {old['value']!r}")
            problems += _params_problems(where, old.get("parameters", []), new.get("parameters", []))
            for base in old.get("bases", []):
                if base not in new["bases"]:
                    problems.append(f"{where} no longer derives from {base}")
            for member, info in old.get("members", {}).items():
                now = new["members"].get(member)
                if now is None:
                    problems.append(f"{where}.{member} was removed")
                elif now["kind"] != info["kind"] and {now["kind"], info["kind"]} != {"field", "attribute"}:
                    problems.append(f"{where}.{member} is now a {now['kind']}, was a {info['kind']}")
                else:
                    problems += _params_problems(
                        f"{where}.{member}", info.get("parameters", []), now.get("parameters", [])
                    )
    return problems


def test_the_public_api_is_compatible_with_the_last_release() -> None:
    assert compatibility_problems(RECORDED, CURRENT) == []


def test_the_comparison_sees_a_removed_name_a_changed_default_and_a_new_required_parameter() -> None:
    edited = json.loads(json.dumps(CURRENT))
    del edited["sandboxres"]["sweep"]
    table = edited["sandboxres"]["ephemeral_table"]["parameters"]
    table[[p["name"] for p in table].index("hash_key")]["default"] = "'id'"
    edited["sandboxres.aio"]["ephemeral_queue"]["parameters"].append(
        {"name": "region", "kind": "KEYWORD_ONLY", "default": ""}
    )
    problems = compatibility_problems(RECORDED, edited)
    assert "sandboxres.sweep was removed" in problems
    assert any("ephemeral_table: parameter 'hash_key' defaults to 'id'" in p for p in problems)
    assert any("sandboxres.aio.ephemeral_queue: new parameter 'region' has no default" in p for p in problems)


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_reports_its_public_module(module_name: str) -> None:
    module = importlib.import_module(module_name)
    wrong = {
        name: obj.__module__
        for name in module.__all__
        if (inspect.isclass(obj := getattr(module, name)) or inspect.isfunction(obj)) and obj.__module__ != module_name
    }
    assert wrong == {}
