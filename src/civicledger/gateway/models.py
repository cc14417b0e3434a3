"""Request and response bodies of the HTTP API, kept apart from core types.

Bytes travel as text: addresses as ``civ1…``, hashes and ids as hex, signed
envelopes as standard base64. Amounts are integers in minor units.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civicledger.core.tx import MAX_TX_SIZE
from civicledger.node.devclock import MAX_ADVANCE_MS

MAX_ENVELOPE_TEXT = (MAX_TX_SIZE + 2) // 3 * 4
"""Longest base64 text of an envelope."""
MAX_BATCH_ENVELOPES = 5000
"""Most envelopes one batch request may carry (``GatewayConfig.max_batch`` may lower it)."""

_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
ACCOUNT_PATTERN = rf"^(civ1[{_BECH32}]{{38}}|CIV1[{_BECH32.upper()}]{{38}})$"
"""A civ1… address as text (bech32 is all lower or all upper case); the checksum is the route's."""
HEX32_PATTERN = r"^[0-9a-fA-F]{64}$"
"""A transaction id, block hash or SHA-256: 32 bytes as 64 hex digits."""
BLOCK_REF_PATTERN = r"^([0-9]{1,19}|[0-9a-fA-F]{64})$"
"""A block height or a block hash."""
PATH_CODES = {"account": "invalid_address", "tx_id": "invalid_argument",
              "sha256": "invalid_argument", "ref": "invalid_argument"}
"""The code a path parameter off its pattern is refused with: the one its route gives for a
value that passes the pattern but not the parse (a wrong checksum, say)."""


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorDetail(Model):
    code: str = Field(description="Stable machine-readable code, e.g. bad_signature")
    message: str = Field(description="What went wrong, for people")


class ErrorBody(Model):
    error: ErrorDetail


# -- transactions ------------------------------------------------------------------------------


class SubmitRequest(Model):
    envelope: str = Field(max_length=MAX_ENVELOPE_TEXT, description="The signed envelope, base64")


class BatchRequest(Model):
    envelopes: list[str] = Field(min_length=1, max_length=MAX_BATCH_ENVELOPES,
                                 description="Signed envelopes, base64, in the order to admit them")


class TxState(StrEnum):
    PENDING = "pending"
    """Admitted and waiting for its block."""
    COMMITTED = "committed"
    """In a durable block; its receipt says whether the call succeeded."""
    REFUSED = "refused"
    """Refused before ordering; nothing changed."""
    FAILED = "failed"
    """Admitted, but the node faulted before its block was durable (``error.code`` is
    ``node_fault`` or a more specific fault code): it is not committed on this node. Ask
    again with ``GET /v1/transactions/{id}`` once the node is back, and resubmit the same
    envelope if it is unknown there (a committed id is refused as ``replayed``, so this is safe)."""


class EventView(Model):
    contract: str
    name: str
    data: dict[str, Any]


class ReceiptView(Model):
    tx_id: str
    status: str = Field(description="'ok', or the code of the rejection recorded in the block")
    message: str
    result: Any = None
    events: list[EventView]


class SubmitResult(Model):
    tx_id: str | None = Field(None, description="Absent when the envelope could not be read")
    state: TxState
    height: int | None = None
    index: int | None = None
    receipt: ReceiptView | None = None
    error: ErrorDetail | None = None


class BatchResult(Model):
    results: list[SubmitResult]
    accepted: int
    refused: int


class CallView(Model):
    chain_id: str
    contract: str
    method: str
    args: dict[str, Any]
    signer: str
    cosigners: list[str]
    nonce: str
    expires_ms: int


class TxView(Model):
    tx_id: str
    state: TxState
    height: int | None = None
    index: int | None = None
    time_ms: int | None = None
    block_hash: str | None = None
    call: CallView | None = None
    receipt: ReceiptView | None = None


# -- blocks and proofs --------------------------------------------------------------------------


class HeaderView(Model):
    chain_id: str
    height: int
    hash: str
    prev_hash: str
    time_ms: int
    proposer: str
    tx_count: int
    tx_root: str
    receipt_root: str
    state_root: str


class BlockTx(Model):
    tx_id: str
    contract: str
    method: str
    signer: str
    status: str


class BlockView(Model):
    header: HeaderView
    transactions: list[BlockTx]


class BlockList(Model):
    blocks: list[HeaderView]


class MerklePath(Model):
    index: int
    size: int
    path: list[str] = Field(description="Sibling hashes, hex, from the leaf level up")


class ProofView(Model):
    tx_id: str
    envelope: str = Field(description="The committed envelope, base64: its leaf is hashed from it")
    height: int
    index: int
    proof: MerklePath
    header: HeaderView
    header_encoded: str = Field(description="The canonical header bytes, hex; its hash is the block hash")


# -- accounts, contracts, governance ------------------------------------------------------------


class Balance(Model):
    currency: str
    name: str
    spendable: int
    expired: int
    decimals: int


class KeyView(Model):
    account: str
    public_key: str = Field(description="Ed25519 public key, hex; the account's address is its hash")


class BalancesView(Model):
    account: str
    balances: list[Balance]
    as_of_ms: int = Field(description="The time `spendable` and `expired` are for: now, or the "
                                      "last block's time if that is later")
    height: int = Field(description="The committed block whose state was read")


class HistoryItem(Model):
    height: int
    index: int
    time_ms: int
    tx_id: str
    status: str
    events: list[EventView]


class HistoryView(Model):
    account: str
    entries: list[HistoryItem]
    next_before: str | None = Field(None, description="Pass as `before` for the next, older page")


class QueryRequest(Model):
    args: dict[str, Any] = Field(default_factory=dict)


class QueryResult(Model):
    result: Any = None
    as_of_ms: int = Field(description="The time the query was evaluated at: now (the node's "
                                      "clock), or the last block's time if that is later")
    height: int = Field(description="The committed block whose state was read")


class HandlerInfo(Model):
    name: str
    doc: str
    roles: list[str]
    args: dict[str, Any] = Field(description="JSON Schema of the arguments object")


class EventInfo(Model):
    name: str
    fields: list[str]
    topics: list[str]


class ContractInfo(Model):
    name: str
    version: int
    account: str
    methods: list[HandlerInfo]
    queries: list[HandlerInfo]
    events: list[EventInfo]


class ChainInfo(Model):
    chain_id: str
    head: HeaderView
    contracts: list[str]
    now_ms: int = Field(description="The ordering clock now (Unix ms): a new block's time is at "
                        "least this. Sign expiries from it: on a dev chain it runs ahead of yours")


class AdvanceTime(Model):
    ms: int = Field(ge=1, le=MAX_ADVANCE_MS, description="How far to move the clock, in ms")


class DevClockView(Model):
    now_ms: int = Field(description="The chain's clock after the move (Unix ms)")
    offset_ms: int = Field(description="How far it runs ahead of the node's wall clock")
    head_time_ms: int = Field(description="The latest block's time; the next block carries the new time")


class BlobRef(Model):
    sha256: str = Field(description="The SHA-256 (hex) of the bytes kept, the image without its "
                        "metadata (not the hash of the file sent): what goes on chain")
    size: int = Field(description="Bytes kept")
    media_type: str


class PeerHealth(Model):
    """A consortium peer's view of the chain and of the other member peers."""

    org: str = Field(description="The member organisation running this peer")
    height: int = Field(description="This peer's last committed block")
    final_height: int = Field(description="The newest block a quorum of peers attested")
    log_height: int = Field(description="The newest batch seen in the ordering log")
    lag: int = Field(description="Batches in the log this peer has not committed yet")
    proposing: bool = Field(description="Whether this peer holds the proposer lease now")
    peers_seen: dict[str, int] = Field(description="Each member peer's newest attested height")
    dissenters: dict[str, int] = Field(
        description="Peers whose header differed from the quorum's, with the first such height")
    diverged: bool = Field(description="This peer's chain differs from the quorum's: it stopped")
    divergence: str = Field("", description="Which block and which roots differ")


class Health(Model):
    status: str = Field(description="ok, or diverged")
    height: int | None = None
    final_height: int | None = None
    consortium: PeerHealth | None = Field(None, description="Present on a consortium peer")


class AttestationView(Model):
    org: str
    header_hash: str
    signature: str = Field(description="Ed25519 over digest('civicledger/attestation', "
                                       "encode([chain_id, height, header_hash])), hex")
    matches: bool = Field(description="It names this block's header (as this peer holds it)")


class BlockAttestations(Model):
    """Who signed a block: a light client checks each signature against ``peers``' keys."""

    height: int
    header_hash: str
    mode: str = Field(description="solo (one node; final once committed) or consortium")
    quorum: int = Field(description="Matching attestations that make the block final")
    peers: dict[str, str] = Field(description="Peer keys in force at this height, by org (hex)")
    attestations: list[AttestationView]
    final: bool


class Readiness(Model):
    ready: bool
    height: int
    pending: int
    reason: str = ""
