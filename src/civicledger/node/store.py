"""The store seam: where committed blocks, receipts, indexes and state live.

``SqliteStore`` is the embedded default; PostgreSQL (roadmap step 5) implements
the same class. A store commits a whole block — header, transactions,
receipts, state writes and indexes — in one transaction, or nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from civicledger.core.block import BlockHeader, Receipt
from civicledger.core.state import Writes


@dataclass(frozen=True, slots=True)
class CommitBatch:
    """Everything one block changes, as the executor produced it; committed atomically."""

    header: BlockHeader
    envelopes: tuple[bytes, ...]
    receipts: tuple[Receipt, ...]
    writes: Writes
    tx_ids: tuple[bytes, ...]
    """Per transaction, its id if it consumed the id (it passed the signature, window and
    replay checks and ran), else b''. Every transaction's receipt is indexed; only these
    ids count for replay protection."""
    signers: tuple[tuple[bytes, bytes], ...] = ()
    """(address, public key) of each signer and co-signer of those transactions."""


@dataclass(frozen=True, slots=True)
class StoredBlock:
    header: BlockHeader
    envelopes: tuple[bytes, ...]
    receipts: tuple[Receipt, ...]


@dataclass(frozen=True, slots=True)
class TopicHit:
    height: int
    index: int


class Store(ABC):
    """A node's durable storage. Reads are safe from any thread; one thread commits."""

    @abstractmethod
    def get(self, key: bytes) -> bytes | None: ...

    @abstractmethod
    def scan(self, start: bytes, end: bytes, limit: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        """State entries with ``start <= key < end`` in key order, at most ``limit`` of them;
        the limit is part of the query, so a page reads its page and not its range."""

    @abstractmethod
    def head(self) -> BlockHeader | None:
        """The last committed header, or None before genesis."""

    @abstractmethod
    def header(self, height: int) -> BlockHeader | None: ...

    @abstractmethod
    def block(self, height: int) -> StoredBlock | None: ...

    @abstractmethod
    def receipt(self, height: int, index: int) -> Receipt | None: ...

    @abstractmethod
    def height_of_hash(self, block_hash: bytes) -> int | None: ...

    @abstractmethod
    def locate(self, tx_id: bytes) -> tuple[int, int] | None:
        """(height, index) of a committed transaction."""

    @abstractmethod
    def envelope(self, tx_id: bytes) -> bytes | None:
        """The envelope of a transaction recorded in a block, read without decoding the block."""

    @abstractmethod
    def committed(self, tx_ids: Iterable[bytes]) -> set[bytes]:
        """Those of ``tx_ids`` that are already committed (consumed: replay protection's set).

        ``locate`` also answers for a transaction a block recorded without consuming its id
        (a bad signature, expired, replayed): such an id may still be committed later.
        """

    @abstractmethod
    def rows(self, table: str) -> Iterator[tuple[object, object]]:
        """Every row of ``state`` or of an index (``txs``, ``topics``, ``signers``) as
        (key, value), in ascending key order: what an audit compares with a replay."""

    @abstractmethod
    def replace_indexes(self, source: Store) -> None:
        """Replace every index with ``source``'s (a verified replay of the same chain),
        atomically; state is never touched."""

    @abstractmethod
    def topic_hits(self, topic: bytes, *, before: tuple[int, int] | None, limit: int) -> list[TopicHit]:
        """Transactions whose events name ``topic``, newest first, older than ``before``."""

    @abstractmethod
    def public_key(self, address: bytes) -> bytes | None:
        """The public key behind ``address``, once it has signed a committed transaction."""

    @abstractmethod
    def claim_writer(self) -> None:
        """Make the calling thread the one that executes and commits blocks."""

    @abstractmethod
    def commit(self, batch: CommitBatch) -> None:
        """Commit a block atomically and durably (fsync before returning)."""

    @abstractmethod
    def get_meta(self, key: str) -> bytes | None: ...

    @abstractmethod
    def put_meta(self, key: str, value: bytes) -> None: ...

    @abstractmethod
    def reading(self) -> AbstractContextManager[None]:
        """Reads on this thread inside the block see one consistent committed state."""

    @abstractmethod
    def close(self) -> None: ...
