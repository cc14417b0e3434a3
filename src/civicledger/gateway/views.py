"""Ledger values turned into the API's response models."""

from __future__ import annotations

from civicledger.core.address import to_text
from civicledger.core.block import BlockHeader, Event, Receipt
from civicledger.core.jsonform import plain
from civicledger.core.tx import SignedTransaction
from civicledger.gateway import models


def header(h: BlockHeader) -> models.HeaderView:
    return models.HeaderView(
        chain_id=h.chain_id, height=h.height, hash=h.hash.hex(), prev_hash=h.prev_hash.hex(),
        time_ms=h.time_ms, proposer=h.proposer, tx_count=h.tx_count, tx_root=h.tx_root.hex(),
        receipt_root=h.receipt_root.hex(), state_root=h.state_root.hex(),
    )


def event(e: Event) -> models.EventView:
    return models.EventView(contract=e.contract, name=e.name, data=plain(dict(e.data)))


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
