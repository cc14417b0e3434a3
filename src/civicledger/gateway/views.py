"""Ledger values turned into the API's response models."""

from __future__ import annotations

from typing import Any

from civicledger.core import tx as txs
from civicledger.core.address import to_text
from civicledger.core.block import BlockHeader, Event, Receipt
from civicledger.core.errors import UnknownCall
from civicledger.core.jsonform import plain
from civicledger.core.tx import SignedTransaction
from civicledger.gateway import models
from civicledger.node.asof import AsOf, query_as_of
from civicledger.node.node import HistoryEntry, Node
from civicledger.node.peer import PeerStatus
from civicledger.node.store import Store, StoredBlock


def parse_before(text: str | None) -> tuple[int, int] | None:
    """A history position ``HEIGHT:INDEX`` (as given in ``next_before``), or None."""
    if text is None:
        return None
    height, sep, index = text.partition(":")
    if not (sep and height.isdigit() and index.isdigit()):
        raise UnknownCall("before is HEIGHT:INDEX, as given in next_before", code="invalid_argument")
    return int(height), int(index)


def header(h: BlockHeader) -> models.HeaderView:
    return models.HeaderView(
        chain_id=h.chain_id, height=h.height, hash=h.hash.hex(), prev_hash=h.prev_hash.hex(),
        time_ms=h.time_ms, proposer=h.proposer, tx_count=h.tx_count, tx_root=h.tx_root.hex(),
        receipt_root=h.receipt_root.hex(), state_root=h.state_root.hex(),
    )


def event(e: Event) -> models.EventView:
    return models.EventView(contract=e.contract, name=e.name, data=plain(dict(e.data)))


def receipt_value(r: Receipt) -> dict[str, Any]:
    """The JSON value of ``receipt(r)``, built without the model (for the submit routes)."""
    return {"tx_id": r.tx_id.hex(), "status": r.status, "message": r.message,
            "result": plain(r.result),
            "events": [{"contract": e.contract, "name": e.name, "data": plain(dict(e.data))}
                       for e in r.events]}


def receipt(r: Receipt) -> models.ReceiptView:
    return models.ReceiptView(
        tx_id=r.tx_id.hex(), status=r.status, message=r.message, result=plain(r.result),
        events=[event(e) for e in r.events],
    )


def call(stx: SignedTransaction) -> models.CallView:
    tx = stx.tx
    signers = [to_text(a) for a in stx.signer_addresses]
    return models.CallView(
        chain_id=tx.chain_id, contract=tx.contract, method=tx.method, args=plain(dict(tx.args)),
        signer=signers[0], cosigners=signers[1:], nonce=tx.nonce.hex(), expires_ms=tx.expires,
    )


def block_txs(block: StoredBlock) -> list[models.BlockTx]:
    """One row per transaction of a stored block: its call, signer and outcome."""
    rows = []
    for envelope, r in zip(block.envelopes, block.receipts, strict=True):
        stx = txs.decode(envelope)
        rows.append(models.BlockTx(tx_id=r.tx_id.hex(), contract=stx.tx.contract,
                                   method=stx.tx.method, signer=to_text(stx.signer_addresses[0]),
                                   status=r.status))
    return rows


def block_height(store: Store, ref: str) -> int | None:
    """The height ``ref`` names (a height or a block hash), None if no block has that hash.

    Raises UnknownCall(invalid_argument) for text that is neither.
    """
    if ref.isdigit() and len(ref) <= 18:
        return int(ref)
    try:
        raw = bytes.fromhex(ref)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise UnknownCall("give a block height or a 64-hex-digit hash", code="invalid_argument")
    return store.height_of_hash(raw)


def balances(node: Node, account: bytes) -> list[models.Balance]:
    """What ``account`` holds in each currency as of now (see ``balances_as_of``)."""
    return balances_as_of(node, account)[0]


def balances_as_of(node: Node, account: bytes) -> tuple[list[models.Balance], AsOf]:
    """What ``account`` holds in each currency as of now (the node's clock, or the last
    block's time if later), all read from one committed state; and which time and state."""
    rows = []
    now = node.clock()
    with node.store.reading():
        listed = query_as_of(node.store, node.registry, "token", "currencies", {}, now)
        for currency in listed.result:
            held = query_as_of(node.store, node.registry, "token", "balance",
                               {"currency": currency["symbol"], "account": account}, now).result
            rows.append(models.Balance(currency=currency["symbol"], name=currency["name"],
                                       spendable=held["spendable"], expired=held["expired"],
                                       decimals=currency["decimals"]))
    return rows, listed


def history_item(entry: HistoryEntry, events: list[models.EventView] | None = None) -> models.HistoryItem:
    """An account's history entry; ``events`` narrows which of its events are shown."""
    return models.HistoryItem(height=entry.height, index=entry.index, time_ms=entry.time_ms,
                              tx_id=entry.receipt.tx_id.hex(), status=entry.receipt.status,
                              events=events if events is not None else [event(e) for e in entry.events])


def peer_health(status: PeerStatus) -> models.PeerHealth:
    return models.PeerHealth(
        org=status.org, height=status.height, final_height=status.final_height,
        log_height=status.log_height, lag=status.lag, proposing=status.proposing,
        peers_seen=status.peers_seen, dissenters=status.dissenters,
        diverged=bool(status.diverged), divergence=status.diverged,
    )
