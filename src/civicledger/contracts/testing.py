"""A sandbox that runs contracts on in-memory state, without a node.

    box = Sandbox([Governance, Token], genesis={"governance": {...}})
    receipt = box.call(alice, "token", "transfer", currency="CIV", to=bob, amount=5)
    assert receipt.ok
    box.query("token", "balance", currency="CIV", account=bob)

Signers are given as addresses: signature checks are the node's job, and the
sandbox is for the contract logic behind them. A failed call changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from civicledger.contracts.framework import Contract, Registry
from civicledger.core.block import BlockEnv, Receipt
from civicledger.core.crypto import digest
from civicledger.core.state import MemoryState, Overlay

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


class Sandbox:
    def __init__(
        self,
        contracts: Iterable[type[Contract]],
        genesis: Mapping[str, Any] | None = None,
        *,
        chain_id: str = "sandbox",
        time_ms: int = START_MS,
    ) -> None:
        self.registry = Registry(contracts)
        self.state = MemoryState()
        self.chain_id = chain_id
        self.height = 0
        self.time_ms = time_ms
        overlay = Overlay(self.state)
        self.registry.genesis(overlay, self.env, genesis or {})
        self.state.apply(overlay.writes)
        self.receipts: list[Receipt] = []

    @property
    def env(self) -> BlockEnv:
        return BlockEnv(self.chain_id, self.height, self.time_ms, "sandbox")

    def advance(self, ms: int) -> None:
        """Move block time forward by ``ms`` milliseconds."""
        self.time_ms += ms

    def call(
        self, signer: bytes, contract: str, method: str, /, *,
        cosigners: Iterable[bytes] = (), **args: Any,
    ) -> Receipt:
        """Run one transaction in its own block; state changes only if it succeeds."""
        self.height += 1
        self.time_ms += 1
        tx_id = digest(b"sandbox-tx", self.height.to_bytes(8, "big"))
        overlay = Overlay(self.state)
        receipt = self.registry.apply(
            overlay, self.env, tx_id, (signer, *cosigners), contract, method, args
        )
        if receipt.ok:
            self.state.apply(overlay.writes)
        self.receipts.append(receipt)
        return receipt

    def query(self, contract: str, name: str, /, **args: Any) -> Any:
        return self.registry.read(Overlay(self.state), self.env, contract, name, args)
