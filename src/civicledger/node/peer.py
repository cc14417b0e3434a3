"""A member organisation's peer: its own store and executor, following the consortium's log.

    JetStream batch stream ─► Node (the same executor and commit path as solo)
                              └─ on commit: sign the header, publish the attestation
    JetStream attestation stream ─► Finality ─► node.finalise(h)   | node.halt(diverged)

Every peer executes every batch and signs what it computed; a gateway on any
peer answers "committed" only once a quorum of peers attested the block.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nats.errors
import nats.js.errors

from civicledger.contracts.framework import Registry
from civicledger.core.attestation import Attestation
from civicledger.core.crypto import KeyPair
from civicledger.core.errors import CivicError, Diverged
from civicledger.node.attestation_book import AttestationBook
from civicledger.node.finality import Divergence, Finality, PeerSet
from civicledger.node.jetstream import (
    JetStreamOrderer,
    LogNames,
    NatsLink,
    Proposer,
    ensure_streams,
    follow_stream,
)
from civicledger.node.node import Node
from civicledger.node.store import CommitBatch, Store
from civicledger.node.verifier import Verifier

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PeerStatus:
    """What ``/v1/health`` and ``/metrics`` tell of a consortium peer."""

    org: str
    height: int
    final_height: int
    log_height: int
    proposing: bool
    peers_seen: dict[str, int]
    """Each peer's newest attested height seen here."""
    dissenters: dict[str, int]
    """Peers whose header differed from the quorum's, with the height."""
    diverged: str
    """Empty, or what differs between this peer's chain and the quorum's."""

    @property
    def lag(self) -> int:
        return max(0, self.log_height - self.height)


class Peer:
    def __init__(self, store: Store, registry: Registry, link: NatsLink, *, org: str,
                 key: KeyPair, book: AttestationBook, propose: bool = True,
                 max_txs: int = 2000, max_wait_ms: int = 20, verifier: Verifier | None = None,
                 replicas: int = 3) -> None:
        head = store.head()
        if head is None:
            raise CivicError("the store has no genesis block: run `civic init` first", code="no_chain")
        self.org = org
        self.key = key
        self.link = link
        self.book = book
        self.replicas = replicas
        self.names = LogNames.of(head.chain_id)
        self.orderer = JetStreamOrderer(link, self.names, head.chain_id)
        self.node = Node(store, registry, self.orderer, verifier=verifier, final_by_quorum=True)
        self.proposer = (Proposer(link, self.names, head.chain_id, org, lambda: self.node.head,
                                  max_txs=max_txs, max_wait_ms=max_wait_ms) if propose else None)
        self.finality = Finality(self._peers_at, on_final=self.node.finalise,
                                 on_diverged=self._diverged)
        self._peer_sets: dict[int, PeerSet] = {}
        self.proposing: Callable[[], bool] = lambda: self.proposer is not None and self.proposer.leading
        """Whether this organisation's proposer holds the lease (it may run in another process)."""
        self.node.on_commit(self._committed)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Peer:
        self.link.run(ensure_streams(self.link.js, self.names, replicas=self.replicas), timeout=90)
        head = self.node.head
        self.finality.head = head.height
        for attestation in self.book.at(head.height):  # what we knew when we stopped
            self.finality.add(attestation)
        self.link.spawn(self._follow_attestations, "follow-attestations")
        self.node.start()
        self.finality.own(head)
        if self.proposer is not None:
            self.proposer.start()
        return self

    def stop(self) -> None:
        self.node.stop()
        self.link.close()
        self.book.close()

    def status(self) -> PeerStatus:
        divergence = self.finality.divergence
        return PeerStatus(
            org=self.org, height=self.node.head.height, final_height=self.node.final_height,
            log_height=self.orderer.log_height,
            proposing=self.proposing(),
            peers_seen=dict(self.finality.seen), dissenters=dict(self.finality.dissenters),
            diverged=divergence.describe() if divergence else "",
        )

    def attestations(self, height: int) -> list[Attestation]:
        return self.book.at(height)

    # -- attesting ---------------------------------------------------------------------

    def _committed(self, executed: CommitBatch) -> None:
        """On the commit thread, after each durable block: sign, keep, publish, count."""
        header = executed.header
        attestation = Attestation.sign(self.org, header, self.key)
        self.book.put(attestation)
        self.finality.own(header)
        self.finality.add(attestation)
        self.link.submit(self._publish(attestation))

    async def _publish(self, attestation: Attestation) -> None:
        subject = self.names.attest_subject(self.org)
        headers = {"Nats-Msg-Id": f"{self.org}:{attestation.height}"}
        for _ in range(40):  # ~10 s through a leader election; the others wait for it
            try:
                await self.link.js.publish(subject, attestation.encode(), headers=headers)
                return
            except (TimeoutError, nats.errors.Error):
                await asyncio.sleep(0.25)
        log.warning("could not publish the attestation of block %d", attestation.height)

    async def _follow_attestations(self) -> None:
        """Read the attestation stream in order from where this peer stopped."""

        async def take(seq: int, data: bytes) -> None:
            try:
                attestation = Attestation.decode(data)
            except CivicError:
                log.warning("attestation stream message %d is not an attestation", seq)
                return
            if attestation.header.chain_id == self.node.chain_id:
                await asyncio.to_thread(self._count, attestation, seq)

        await follow_stream(self.link, self.names.attest_stream, self.names.attest_subject(),
                            self.book.stream_seq() + 1, take, gap=self._skipped_gap)

    def _count(self, attestation: Attestation, seq: int) -> None:
        if self.finality.add(attestation):
            self.book.put(attestation, stream_seq=seq)

    async def _skipped_gap(self, seq: int) -> bool:
        """True if ``seq`` is missing below the stream's last message (purged or deleted)."""
        try:
            info = await self.link.js.stream_info(self.names.attest_stream)
        except (TimeoutError, nats.errors.Error):
            return False
        return seq < info.state.first_seq or (seq < info.state.last_seq and seq >= info.state.first_seq)

    # -- governance --------------------------------------------------------------------

    def _peers_at(self, height: int) -> PeerSet:
        known = self._peer_sets.get(height)
        if known is not None:
            return known
        answer = self.node.query("governance", "peers", {"height": height})
        peers = ({p["org"]: p["key"] for p in answer["peers"]}, answer["quorum"])
        if height <= self.node.head.height:  # complete only once this peer executed the height
            if len(self._peer_sets) > 4096:
                self._peer_sets.clear()
            self._peer_sets[height] = peers
        return peers

    def _diverged(self, divergence: Divergence) -> None:
        self.node.halt(Diverged(divergence.describe()))


def open_peer(store: Store, registry: Registry, *, servers: list[str], credentials: Any,
              org: str, key: KeyPair, book_path: Any, **options: Any) -> Peer:
    """Connect to the NATS cluster and wire a peer (not started)."""
    link = NatsLink(servers, credentials, name=f"civic-peer-{org}")
    try:
        return Peer(store, registry, link, org=org, key=key, book=AttestationBook(book_path), **options)
    except BaseException:
        link.close()
        raise

