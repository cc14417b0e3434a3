"""Test harness: a consortium of in-process peers on a real three-node NATS JetStream cluster."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path

from civicledger.contracts.catalog import registry as default_registry
from civicledger.contracts.framework import Registry
from civicledger.core.crypto import KeyPair
from civicledger.node.executor import Genesis
from civicledger.node.natsd import Credentials, NatsCluster
from civicledger.node.node import Committed, initialise
from civicledger.node.peer import Peer, open_peer
from civicledger.node.sqlite_store import SqliteStore
from tests.node.conftest import Accounts, make_genesis

ORGS = ("city", "nowon", "gangseo")


def member_genesis(accounts: Accounts, orgs: tuple[str, ...] = ORGS, **params: int) -> Genesis:
    """The test chain with ``orgs`` as members (the first one issues CIV); no peers yet."""
    base = make_genesis(accounts, amount=10**9)
    governance = dict(base.contracts["governance"])
    admin = governance["orgs"][0]["admins"][0]
    governance["orgs"] = [{**governance["orgs"][0], "id": orgs[0]}] + [
        {"id": org, "name": org, "admins": [admin], "roles": {}} for org in orgs[1:]]
    governance["params"] = params
    token = dict(base.contracts["token"])
    token["currencies"] = [{**c, "issuer": orgs[0]} for c in token["currencies"]]
    return Genesis(base.chain_id, base.time_ms, {**base.contracts, "governance": governance,
                                                  "token": token})


def consortium_genesis(accounts: Accounts, peer_keys: dict[str, KeyPair], **params: int) -> Genesis:
    base = member_genesis(accounts, **params)
    governance = dict(base.contracts["governance"])
    governance["peers"] = [{"org": org, "key": key.public_key.hex()} for org, key in peer_keys.items()]
    return Genesis(base.chain_id, base.time_ms, {**base.contracts, "governance": governance})


class Consortium:
    def __init__(self, root: Path, nats: NatsCluster, logins: dict[str, Credentials],
                 accounts: Accounts, **params: int) -> None:
        self.root = root
        self.nats = nats
        self.logins = logins
        self.accounts = accounts
        self.keys = {org: KeyPair.from_seed(bytes([n]) * 32) for n, org in enumerate(ORGS, 40)}
        self.genesis = consortium_genesis(accounts, self.keys, **params)
        self.peers: dict[str, Peer] = {}
        self._sent = 0
        self.final_when_answered: dict[bytes, int] = {}
        """Per answered transaction, the answering peer's final height at that moment."""

    def store(self, org: str) -> SqliteStore:
        path = self.root / f"{org}.db"
        fresh = not path.exists()
        store = SqliteStore(path)
        if fresh:
            initialise(store, default_registry(), self.genesis)
        return store

    def open(self, org: str, *, propose: bool = True, registry: Registry | None = None,
             block_ms: int = 20, max_txs: int = 2000) -> Peer:
        peer = open_peer(self.store(org), registry or default_registry(), servers=self.nats.urls(),
                         credentials=self.logins[org], org=org, key=self.keys[org],
                         book_path=self.root / f"{org}-attestations.db", propose=propose,
                         max_wait_ms=block_ms, max_txs=max_txs)
        self.peers[org] = peer.start()
        return peer

    def stop(self, org: str) -> None:
        peer = self.peers.pop(org)
        peer.stop()
        peer.node.store.close()

    def close(self) -> None:
        for org in list(self.peers):
            self.stop(org)

    def envelopes(self, count: int) -> list[bytes]:
        out = []
        n = len(self.accounts.keys)
        for _ in range(count):
            i = self._sent
            self._sent += 1
            sender, recipient = i % n, (i + 1 + i // n) % n
            if sender == recipient:
                recipient = (recipient + 1) % n
            tx = self.accounts.transfer(sender, recipient, 1 + i % 5)
            out.append(tx.sign(self.accounts.keys[sender]).envelope())
        return out

    def submit(self, org: str, envelopes: Iterable[bytes]) -> list[Future[Committed]]:
        node = self.peers[org].node
        results = node.submit_many(list(envelopes))
        for result in results:
            assert isinstance(result, Future), result

            def answered(future: Future[Committed], node=node) -> None:
                if future.exception() is None:
                    self.final_when_answered[future.result().receipt.tx_id] = node.final_height

            result.add_done_callback(answered)
        return results  # type: ignore[return-value]

    def heads(self) -> dict[str, int]:
        return {org: peer.node.head.height for org, peer in self.peers.items()}


def wait_for(condition: Callable[[], bool], timeout: float = 60, what: str = "condition") -> float:
    """Wait until ``condition()``; the seconds it took (reported by tests, never asserted)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - started


def same_chain(stores: Iterable[SqliteStore]) -> int:
    """Assert that the stores hold identical headers at every height; the common height."""
    stores = list(stores)
    top = min(s.head().height for s in stores)  # type: ignore[union-attr]
    for height in range(top + 1):
        headers = {s.header(height) for s in stores}
        assert len(headers) == 1, f"headers differ at height {height}"
    return top
