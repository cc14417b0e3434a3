"""The layer rule of DESIGN.md, checked on the source: imports point only downwards.

    core       imports stdlib and the crypto/encoding libraries only
    contracts  imports core and contracts
    node       imports core, contracts and node
    gateway, cli, web, sdk: anything below

Every import statement counts, including those under ``if TYPE_CHECKING:`` and
inside functions: a lazy import still couples the layers.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "civicledger"

ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "contracts": {"core", "contracts"},
    "node": {"core", "contracts", "node"},
    "sdk": {"core", "sdk"},
}
"""For each layer with a rule, the layers it may import. Others (the edges) may import anything.

The SDK runs in other people's programs: it needs ``core`` to sign and verify, never a node."""

CORE_THIRD_PARTY = {"msgpack", "nacl", "bech32"}


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """Every module ``source`` imports, absolute, with relative imports resolved."""
    found: list[str] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: -(node.level - 1)]
                base = ".".join(base_parts)
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if node.module is None:  # from . import a, b: each name may be a module
                found.extend(f"{target}.{alias.name}" for alias in node.names)
            else:
                found.append(target)
    return found


def layer_of(module: str) -> str | None:
    """The layer of a civicledger module: the name right under the package."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    return parts[1] if len(parts) > 1 else ""


def violations(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """What ``module``'s imports break of the layer rule, as readable lines."""
    layer = layer_of(module)
    problems = []
    for target in imported_modules(module, source, is_package=is_package):
        top = target.split(".")[0]
        target_layer = layer_of(target)
        if target_layer is not None:
            allowed = ALLOWED.get(layer or "")
            if allowed is not None and target_layer not in allowed:
                problems.append(f"{module} imports {target}; {layer} imports only {sorted(allowed)}")
        elif layer == "core" and top not in sys.stdlib_module_names | CORE_THIRD_PARTY:
            problems.append(f"{module} imports {target}; core uses only stdlib and {CORE_THIRD_PARTY}")
    return problems


def source_files() -> list[Path]:
    return sorted((SRC / PACKAGE).rglob("*.py"))


# -- the checker itself ----------------------------------------------------------


def test_checker_flags_upward_imports() -> None:
    source = "import civicledger.node.executor\nfrom civicledger.cli import main\n"
    assert len(violations("civicledger.core.tx", source)) == 2
    assert len(violations("civicledger.contracts.token.contract", source)) == 2
    assert violations("civicledger.node.executor", "from civicledger.cli import main") != []
    assert violations("civicledger.node.executor", "from civicledger.contracts import framework") == []
    assert violations("civicledger.cli.main", source) == []
    assert violations("civicledger.gateway.app", "import civicledger.node") == []


def test_checker_resolves_relative_imports() -> None:
    assert violations("civicledger.core.tx", "from ..node import executor") != []
    assert violations("civicledger.core.tx", "from .. import node") != []
    assert violations("civicledger.core.tx", "from . import encoding") == []
    assert violations("civicledger.core", "from . import encoding", is_package=True) == []
    assert violations("civicledger.core", "from .. import cli", is_package=True) != []
    assert imported_modules("civicledger.contracts.token.contract", "from ...core import tx") == [
        "civicledger.core"
    ]


def test_checker_sees_lazy_and_type_checking_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from civicledger.node.store import Store\n"
        "def f():\n"
        "    import civicledger.gateway\n"
    )
    assert len(violations("civicledger.contracts.framework", source)) == 2


def test_checker_limits_third_party_libraries_in_core() -> None:
    assert violations("civicledger.core.x", "import json, hashlib\nfrom nacl import signing") == []
    assert violations("civicledger.core.x", "import msgpack, bech32") == []
    assert violations("civicledger.core.x", "import requests") != []
    assert violations("civicledger.core.x", "from fastapi import FastAPI") != []
    assert violations("civicledger.contracts.x", "import requests") == []  # not core's rule


def test_checker_allows_a_contract_to_use_another() -> None:
    source = "from civicledger.contracts.governance import Governance"
    assert violations("civicledger.contracts.token.contract", source) == []


# -- the source tree -------------------------------------------------------------


def test_the_source_tree_is_found() -> None:
    names = {module_name(p) for p in source_files()}
    assert {"civicledger.core.tx", "civicledger.contracts.framework"} <= names


@pytest.mark.parametrize("path", source_files(), ids=lambda p: module_name(p))
def test_every_module_respects_the_layers(path: Path) -> None:
    module = module_name(path)
    problems = violations(module, path.read_text(encoding="utf-8"), is_package=path.stem == "__init__")
    assert problems == []
