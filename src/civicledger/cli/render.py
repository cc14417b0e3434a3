"""Turning ledger values into text people can read: addresses as civ1…, other bytes as hex."""

from __future__ import annotations

import json
from typing import Any

from civicledger.core.block import BlockHeader, Receipt
from civicledger.core.jsonform import plain


def dumps(value: Any) -> str:
    return json.dumps(plain(value), ensure_ascii=False, indent=2)


def header(h: BlockHeader) -> dict[str, Any]:
    return {
        "height": h.height,
        "hash": h.hash.hex(),
        "prev_hash": h.prev_hash.hex(),
        "time_ms": h.time_ms,
        "proposer": h.proposer,
        "tx_count": h.tx_count,
        "tx_root": h.tx_root.hex(),
        "receipt_root": h.receipt_root.hex(),
        "state_root": h.state_root.hex(),
        "chain_id": h.chain_id,
    }


def receipt(r: Receipt) -> dict[str, Any]:
    return {
        "tx_id": r.tx_id.hex(),
        "status": r.status,
        "message": r.message,
        "result": plain(r.result),
        "events": [
            {"contract": e.contract, "name": e.name, "data": plain(dict(e.data))} for e in r.events
        ],
    }
