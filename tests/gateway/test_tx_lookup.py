"""Reading a transaction back by its id: every receipt a block recorded answers."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient

from civicledger.core import encoding, merkle
from civicledger.core.block import BlockHeader
from civicledger.core.crypto import digest
from civicledger.gateway import create_app
from civicledger.node.executor import execute_block
from civicledger.node.node import Node
from civicledger.node.ordering import Batch, SoloOrderer, wall_clock_ms
from civicledger.node.verifier import Verifier
from tests.gateway.conftest import transfer


def test_a_transaction_that_expired_in_the_queue_answers_with_its_block_and_receipt(
        store, registry, accounts, config, blobs):
    now = wall_clock_ms()
    late = transfer(accounts, 1, 2, 5, expires=now + 1_000)
    verifier = Verifier()
    store.commit(execute_block(registry, store, store.head(), Batch(now + 5_000, "solo", (late,)),
                               verifier=verifier, committed=store.committed))
    verifier.close()
    with Node(store, registry, SoloOrderer(max_wait_ms=2)) as node, \
            TestClient(create_app(node, config, blobs=blobs)) as api:
        shown = api.get(f"/v1/transactions/{late.id.hex()}")
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert (body["state"], body["height"], body["index"]) == ("committed", 1, 0)
        assert body["receipt"]["status"] == "expired"
        assert body["block_hash"] == store.header(1).hash.hex()
        proof = api.get(f"/v1/transactions/{late.id.hex()}/proof").json()  # provable like any other
        header = BlockHeader.from_value(
            encoding.decode(bytes.fromhex(proof["header_encoded"]), max_size=4096))
        assert digest(b"civicledger/block", header.encode()).hex() == body["block_hash"]
        path = merkle.Proof(proof["proof"]["index"], proof["proof"]["size"],
                            tuple(bytes.fromhex(h) for h in proof["proof"]["path"]))
        assert merkle.verify(base64.b64decode(proof["envelope"]), path, header.tx_root)
