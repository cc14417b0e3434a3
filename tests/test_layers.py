"""The layer rule of DESIGN.md, checked on the source: imports point only downwards.

    core       imports stdlib and the crypto/encoding libraries only
    contracts  imports core and contracts
    node       imports core, contracts and node
    gateway, cli, web, sdk: anything below

and, within and beside the layers:

    a contract package (contracts/<service>/) imports no other contract package, only
        its own modules and the shared contract modules (framework, storage, …);
    a contract imports no I/O, clock, randomness or networking library: of the standard
        library only the pure modules in CONTRACT_STDLIB, and no third-party library;
    the portal (web) uses the gateway's public face only, never its routes or machinery.

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

SHARED_CONTRACT_MODULES = {"framework", "storage", "testing", "shared", "cells"}
"""Modules directly under ``contracts/`` that every contract package may import. A module
under ``contracts/`` that is neither a contract package nor listed here (``catalog``, which
assembles them all) is not for contracts to import."""

CONTRACT_STDLIB = {
    "__future__", "abc", "bisect", "collections", "dataclasses", "enum", "functools", "heapq",
    "inspect", "itertools", "operator", "re", "string", "types", "typing", "unicodedata",
}
"""The standard library a contract may use: pure, deterministic modules. Anything else —
socket, os, subprocess, http, urllib, asyncio, threading, time, datetime, random, secrets,
sqlite3, pathlib, io, logging, … and every third-party library — is I/O, a clock, randomness
or a dependency a contract must not have (DESIGN.md: determinism). Hashing and encoding come
from ``core``."""

GATEWAY_PUBLIC = {"civicledger.gateway", "civicledger.gateway.models", "civicledger.gateway.views"}
"""What the portal may import of the gateway: the package's exports (``create_app``,
``GatewayConfig``, ``gateway_of``) and the API's response shapes, so pages show what the API
answers. Routes, admission, limits, errors and the rest are the gateway's own."""

KNOWN_VIOLATIONS: dict[str, set[str]] = {}
"""Imports that break a rule and may stay until their fix lands: module -> the modules it may
still import, each entry with a comment saying why. Empty: the tree meets every rule."""


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
            else:  # from package import a: a module when the tree has one by that name
                names = [f"{target}.{alias.name}" for alias in node.names]
                modules = [name for name in names if is_module(name)]
                found.extend(modules)
                if len(modules) < len(names):
                    found.append(target)
    return found


def is_module(name: str) -> bool:
    """Whether ``name`` is a module or package of the source tree."""
    path = SRC.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def contract_package(module: str) -> str | None:
    """The contract package ``module`` belongs to or names (``civicledger.contracts.token…``
    → ``token``), or None for the shared modules and anything outside ``contracts``."""
    parts = module.split(".")
    if parts[:2] != [PACKAGE, "contracts"] or len(parts) < 3:
        return None
    return parts[2] if (SRC / PACKAGE / "contracts" / parts[2] / "__init__.py").is_file() else None


def layer_of(module: str) -> str | None:
    """The layer of a civicledger module: the name right under the package."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    return parts[1] if len(parts) > 1 else ""


def violations(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """What ``module``'s imports break of the rules, as readable lines."""
    layer = layer_of(module)
    problems = []
    known = KNOWN_VIOLATIONS.get(module, set())
    for target in imported_modules(module, source, is_package=is_package):
        if target in known:
            continue
        top = target.split(".")[0]
        target_layer = layer_of(target)
        if target_layer is not None:
            allowed = ALLOWED.get(layer or "")
            if allowed is not None and target_layer not in allowed:
                problems.append(f"{module} imports {target}; {layer} imports only {sorted(allowed)}")
            elif layer == "contracts" and target_layer == "contracts":
                problems.extend(_contract_problems(module, target))
            elif layer == "web" and target_layer == "gateway" and target not in GATEWAY_PUBLIC:
                problems.append(f"{module} imports {target}, the gateway's own; the portal "
                                f"uses only {sorted(GATEWAY_PUBLIC)}")
        elif layer == "core" and top not in sys.stdlib_module_names | CORE_THIRD_PARTY:
            problems.append(f"{module} imports {target}; core uses only stdlib and {CORE_THIRD_PARTY}")
        elif layer == "contracts" and top not in CONTRACT_STDLIB:
            kind = "library" if top in sys.stdlib_module_names else "third-party library"
            problems.append(f"{module} imports {target}, a {kind} a contract may not use (I/O, "
                            f"clock, randomness or a dependency); only {sorted(CONTRACT_STDLIB)}")
    return problems


def _contract_problems(module: str, target: str) -> list[str]:
    """A contract module's import of another ``civicledger.contracts`` module."""
    own, theirs = contract_package(module), contract_package(target)
    if own is None or theirs == own:
        return []
    if theirs is not None:
        return [f"{module} imports {target}, another contract package; contracts share code "
                f"through {sorted(SHARED_CONTRACT_MODULES)} and call each other through ctx"]
    parts = target.split(".")
    if len(parts) > 2 and parts[2] not in SHARED_CONTRACT_MODULES:
        return [f"{module} imports {target}; a contract package imports only its own modules "
                f"and {sorted(SHARED_CONTRACT_MODULES)}"]
    return []


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
        "civicledger.core.tx"
    ]
    assert imported_modules("civicledger.web.pages", "from civicledger.gateway import models, x") == [
        "civicledger.gateway.models", "civicledger.gateway"
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
    assert violations("civicledger.node.x", "import requests") == []  # not core's rule


def test_checker_flags_a_contract_package_importing_another() -> None:
    token = "civicledger.contracts.token.contract"
    for source in (
        "from civicledger.contracts.governance import Governance",
        "from civicledger.contracts.governance.contract import Governance",
        "import civicledger.contracts.incentives.records",
        "from civicledger.contracts import governance",
        "from ..governance import contract",
        "from civicledger.contracts.catalog import registry",  # assembles every contract
    ):
        assert len(violations(token, source)) == 1, source
    for source in (
        "from civicledger.contracts.token.records import Lot",  # its own package
        "from .records import Lot",
        "from civicledger.contracts.framework import Contract",
        "from civicledger.contracts.storage import Map",
        "from civicledger.contracts.shared import PageSize",
        "from civicledger.contracts import cells, framework",
    ):
        assert violations(token, source) == [], source
    assert violations("civicledger.contracts.catalog", "from civicledger.contracts.token import Token") == []


@pytest.mark.parametrize("library", [
    "socket", "os", "os.path", "subprocess", "http.client", "urllib.request", "asyncio",
    "threading", "time", "datetime", "random", "secrets", "sqlite3", "pathlib", "io", "logging",
    "shutil", "tempfile", "multiprocessing", "concurrent.futures", "ssl", "select", "signal",
    "ctypes", "uuid", "requests", "httpx", "fastapi",
])
def test_checker_flags_a_contract_importing_io_clock_randomness_or_network(library: str) -> None:
    for source in (f"import {library}", f"from {library} import x",
                   f"def f():\n    import {library}\n"):
        assert len(violations("civicledger.contracts.token.contract", source)) == 1, source
        assert len(violations("civicledger.contracts.framework", source)) == 1, source


def test_checker_lets_a_contract_use_the_pure_standard_library() -> None:
    source = "import dataclasses, enum, re, typing\nfrom collections.abc import Iterator\n"
    assert violations("civicledger.contracts.token.contract", source) == []


def test_checker_keeps_the_portal_to_the_gateways_public_face() -> None:
    for source in (
        "from civicledger.gateway.routes import gateway_of",
        "from civicledger.gateway.routes.accounts import parse_before",
        "from civicledger.gateway.app import Gateway",
        "import civicledger.gateway.ratelimit",
        "from civicledger.gateway import errors",
    ):
        assert len(violations("civicledger.web.pages", source)) == 1, source
    for source in (
        "from civicledger.gateway import gateway_of, create_app",
        "from civicledger.gateway import models, views",
        "from civicledger.gateway.views import parse_before",
        "from civicledger.node.node import Node",
    ):
        assert violations("civicledger.web.pages", source) == [], source
    assert violations("civicledger.cli.main", "from civicledger.gateway.routes import chain") == []


def test_a_known_violation_is_excused_for_its_module_and_import_only(monkeypatch) -> None:
    monkeypatch.setitem(KNOWN_VIOLATIONS, "civicledger.contracts.token.contract",
                        {"civicledger.contracts.governance"})
    source = "from civicledger.contracts.governance import Governance\nimport time"
    assert len(violations("civicledger.contracts.token.contract", source)) == 1  # time still
    assert len(violations("civicledger.contracts.parking.contract", source)) == 2


# -- the source tree -------------------------------------------------------------


def test_every_known_violation_is_still_one() -> None:
    """An allow-list entry whose import is gone (fixed) must go too."""
    for module, targets in KNOWN_VIOLATIONS.items():
        path = SRC.joinpath(*module.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        imported = set(imported_modules(module, path.read_text(encoding="utf-8"),
                                        is_package=path.stem == "__init__"))
        assert targets <= imported, f"{module} no longer imports {targets - imported}"


def test_the_source_tree_is_found() -> None:
    names = {module_name(p) for p in source_files()}
    assert {"civicledger.core.tx", "civicledger.contracts.framework"} <= names


@pytest.mark.parametrize("path", source_files(), ids=lambda p: module_name(p))
def test_every_module_respects_the_layers(path: Path) -> None:
    module = module_name(path)
    problems = violations(module, path.read_text(encoding="utf-8"), is_package=path.stem == "__init__")
    assert problems == []
