"""Demo data: a small city so that a newcomer sees a living ledger on first start.

Organisations (Seoul city, the Nowon and Gangseo district offices, a welfare
centre, a café, a Gangseo school and a Gangseo bakery), their admins and a few
citizens get keys in the data
directory, sealed with the passphrase ``demo`` (for demos only). The genesis
gives the city token CIV and two district coins modelled on Nowon's NW:
700 per volunteer hour, 1 coin = 1 won, at most 50,000 held per person, each
lot valid three years. Names here label keys on this machine only; the chain
holds addresses.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from civicledger.cli.workspace import Workspace
from civicledger.core.address import address_of, from_text, to_text
from civicledger.core.crypto import KeyPair
from civicledger.core.errors import NodeFault
from civicledger.core.tx import SignedTransaction, Transaction
from civicledger.node.executor import Genesis, execute_block
from civicledger.node.ordering import Batch
from civicledger.node.store import Store
from civicledger.node.verifier import Verifier

DEMO_PASSPHRASE = "demo"
DEMO_WEEK_MS = 8 * 24 * 3600 * 1000
"""How far back the demo chain starts, so that its week of activity lies in the past."""
STEP_TTL_MS = 10 * 60 * 1000
THREE_YEARS_MS = 3 * 365 * 24 * 3600 * 1000

ORGS = (
    ("seoul", "서울특별시 Seoul Metropolitan Government", ("issuer", "operator")),
    ("nowon", "노원구청 Nowon District Office", ("issuer", "verifier")),
    ("gangseo", "강서구청 Gangseo District Office", ("issuer", "verifier")),
    ("welfare", "노원복지관 Nowon Welfare Centre", ("operator",)),
    ("cafe", "공릉커피 Gongneung Coffee", ("merchant",)),
    ("school", "강서초등학교 Gangseo Elementary School", ("manager",)),
    ("bakery", "화곡베이커리 Hwagok Bakery", ("merchant",)),
)
CITIZENS = ("minji", "junho", "seoyeon", "dohyun")
ORGS += (("airlab", "서울대기연구소 Seoul Air Research Lab", ()),)
"""A consumer of city data: buys air-quality datasets and the hazard feed (incentives demo)."""


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One transaction of the demo's week of activity, signed with the demo keys."""

    at_ms: int
    """When it happens, in ms after the demo's start (the genesis time)."""
    signer: str
    """The demo key name that signs it, e.g. ``"minji"`` or ``"nowon-admin"``."""
    contract: str
    method: str
    args: Mapping[str, Any] = field(default_factory=dict)
    cosigners: tuple[str, ...] = ()
    """Demo key names that co-sign it."""


def key_names() -> list[str]:
    """Every demo key: each organisation's admin, then the citizens."""
    return [f"{org}-admin" for org, _, _ in ORGS] + list(CITIZENS)


def create(workspace: Workspace, chain_id: str, time_ms: int) -> tuple[Genesis, dict[str, KeyPair]]:
    """Make the demo keys; the demo genesis document and the keys by name (to sign the week)."""
    keys: dict[str, KeyPair] = {}
    for name in key_names():
        keys[name] = KeyPair.generate()
        workspace.save_key(name, keys[name], DEMO_PASSPHRASE, fast=True)
    addresses = {name: to_text(address_of(k.public_key)) for name, k in keys.items()}
    return genesis_document(addresses, chain_id, time_ms), keys


def week(keys: Mapping[str, KeyPair], start_ms: int) -> list[DemoStep]:
    """Every service's week of activity, in time order (each service's own order kept)."""
    from civicledger.cli import demo_incentives, demo_volunteering

    def address(name: str) -> bytes:
        return address_of(keys[name].public_key)

    steps = [*demo_incentives.steps(address, start_ms), *demo_volunteering.steps(address, start_ms)]
    return sorted(steps, key=lambda step: step.at_ms)


def seed_week(store: Store, keys: Mapping[str, KeyPair], genesis: Genesis) -> int:
    """Commit the week as blocks stamped with its own (past) times; returns the blocks added.

    Each distinct moment of the week is one block. Every step must succeed: a refused step
    means the demo and the contracts disagree, and is raised rather than hidden.
    """
    from civicledger.contracts.catalog import registry as default_registry

    registry = default_registry()
    head = store.head()
    assert head is not None
    verifier = Verifier(threads=1)
    try:
        blocks = 0
        for at_ms, moment in itertools.groupby(week(keys, genesis.time_ms), key=lambda s: s.at_ms):
            time_ms = genesis.time_ms + at_ms
            signed = tuple(_sign(step, keys, genesis.chain_id, time_ms) for step in moment)
            executed = execute_block(registry, store, head, Batch(time_ms, "demo", signed),
                                     verifier=verifier, committed=store.committed)
            for step, receipt in zip(signed, executed.receipts, strict=True):
                if not receipt.ok:
                    raise NodeFault(f"demo step {step.tx.contract}.{step.tx.method} was refused: "
                                    f"{receipt.status}: {receipt.message}", code="demo_broken")
            store.commit(executed)
            head = executed.header
            blocks += 1
        return blocks
    finally:
        verifier.close()


def _sign(step: DemoStep, keys: Mapping[str, KeyPair], chain_id: str, time_ms: int) -> SignedTransaction:
    signer = keys[step.signer]
    cosigners = [keys[name] for name in step.cosigners]
    return Transaction(chain_id, step.contract, step.method, dict(step.args), signer.public_key,
                       os.urandom(16), time_ms + STEP_TTL_MS, tuple(k.public_key for k in cosigners),
                       ).sign(signer, *cosigners)


def genesis_document(addresses: Mapping[str, str], chain_id: str, time_ms: int) -> Genesis:
    """The demo genesis for the given key addresses (``civ1…`` text by key name): a pure function,
    so tests can build the same chain from keys they hold."""
    # Imported here: each service's demo module imports DemoStep from this one.
    from civicledger.cli import demo_incentives, demo_volunteering

    orgs: list[dict[str, Any]] = []
    for org, title, roles in ORGS:
        admin = addresses[f"{org}-admin"]
        orgs.append({"id": org, "name": title, "admins": [admin], "roles": {admin: list(roles)}})
    currencies = [
        {"symbol": "CIV", "name": "Civic Token 시민토큰", "issuer": "seoul", "decimals": 0,
         "cap": None, "validity_ms": None, "max_supply": None},
        {"symbol": "NW", "name": "노원 NW", "issuer": "nowon", "decimals": 0,
         "cap": 50_000, "validity_ms": THREE_YEARS_MS, "max_supply": None},
        {"symbol": "GS", "name": "강서 GS", "issuer": "gangseo", "decimals": 0,
         "cap": 50_000, "validity_ms": THREE_YEARS_MS, "max_supply": None},
    ]
    balances = [{"symbol": "CIV", "account": addresses["seoul-admin"], "amount": 10_000_000}]
    balances += [{"symbol": "CIV", "account": addresses[c], "amount": 10_000} for c in CITIZENS]
    balances += [{"symbol": "NW", "account": addresses["minji"], "amount": 2_100}]
    rates = [
        {"from": "NW", "to": "CIV", "num": 1, "den": 1},
        {"from": "GS", "to": "CIV", "num": 1, "den": 1},
        {"from": "NW", "to": "GS", "num": 1, "den": 1},
        {"from": "GS", "to": "NW", "num": 1, "den": 1},
    ]
    contracts: dict[str, Any] = {
        "governance": {"orgs": orgs},
        "token": {"currencies": currencies, "balances": balances, "rates": rates},
    }
    address = lambda name: from_text(addresses[name])  # noqa: E731 - the services' addr(name)
    for service in (demo_incentives, demo_volunteering):
        contracts = merge_genesis(contracts, service.genesis(address))
    return Genesis(chain_id, time_ms, contracts)


def merge_genesis(base: Any, extra: Any) -> Any:
    """``base`` with a service's ``extra`` genesis configuration folded in: maps merge key by key,
    lists of maps with an ``id`` merge item by id (so a service can add roles to an existing
    organisation), other lists are joined without repeating an item."""
    if isinstance(base, Mapping) and isinstance(extra, Mapping):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = merge_genesis(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(extra, list):
        by_id = {item["id"]: i for i, item in enumerate(base) if isinstance(item, Mapping) and "id" in item}
        merged_list = list(base)
        for item in extra:
            if isinstance(item, Mapping) and item.get("id") in by_id:
                i = by_id[item["id"]]
                merged_list[i] = merge_genesis(merged_list[i], item)
            elif item not in merged_list:
                merged_list.append(item)
        return merged_list
    return extra
