"""Golden chain: fixed keys, transactions and times give fixed roots, byte for byte.

If an optimisation changes any encoding, hash or execution result, these hashes
change. (The expected values were computed by the implementation before the
performance work of the ``perf`` branch; the block hashes and state roots were recomputed
when governance began indexing role holders by organisation, with every receipt root and
status unchanged.)
"""

from __future__ import annotations

from civicledger.contracts.catalog import registry as default_registry
from civicledger.core.address import address_of
from civicledger.core.crypto import KeyPair
from civicledger.core.tx import Transaction
from civicledger.node.executor import execute_block, execute_genesis
from civicledger.node.ordering import Batch
from civicledger.node.sqlite_store import SqliteStore
from civicledger.node.store import CommitBatch
from civicledger.node.verifier import Verifier
from tests.node.conftest import CHAIN, make_genesis

T0 = 1_767_225_600_000
KEYS = [KeyPair.from_seed(bytes([i + 1]) * 32) for i in range(5)]


class FixedAccounts:
    keys = KEYS

    def address(self, i: int) -> bytes:
        return address_of(KEYS[i].public_key)


def transfer(sender: int, recipient: int, amount: int, n: int, *, chain: str = CHAIN,
             expires: int = T0 + 10**7, memo: str | None = None) -> Transaction:
    args = {"currency": "CIV", "to": address_of(KEYS[recipient].public_key), "amount": amount}
    if memo is not None:
        args["memo"] = memo
    return Transaction(chain, "token", "transfer", args, KEYS[sender].public_key,
                       n.to_bytes(16, "big"), expires)


def golden_batches() -> list[Batch]:
    ok = [transfer(i % 5, (i + 1) % 5, 1 + i, i).sign(KEYS[i % 5]) for i in range(12)]
    mint = Transaction(CHAIN, "token", "mint",
                       {"currency": "CIV", "to": address_of(KEYS[3].public_key), "amount": 50},
                       KEYS[0].public_key, bytes(16), T0 + 10**7).sign(KEYS[0])
    not_issuer = Transaction(CHAIN, "token", "mint",
                             {"currency": "CIV", "to": address_of(KEYS[3].public_key), "amount": 50},
                             KEYS[1].public_key, bytes(16), T0 + 10**7).sign(KEYS[1])
    too_much = transfer(2, 4, 10**6, 100).sign(KEYS[2])
    to_self = transfer(1, 1, 5, 101).sign(KEYS[1])
    badly_signed = transfer(3, 0, 5, 102).sign(KEYS[4])
    expired = transfer(0, 1, 5, 103, expires=T0 + 1).sign(KEYS[0])
    elsewhere = transfer(0, 1, 5, 104, chain="busan").sign(KEYS[0])
    memo = transfer(4, 0, 7, 105, memo="점심 값").sign(KEYS[4])
    return [
        Batch(T0 + 1000, "solo", tuple(ok[:6])),
        Batch(T0 + 2000, "solo", (mint, not_issuer, too_much, to_self, ok[6], ok[6], ok[0])),
        Batch(T0 + 1500, "solo", (badly_signed, expired, elsewhere, memo, *ok[7:])),
        Batch(T0 + 4000, "solo", ()),
    ]


def run_golden(path, batches: list[Batch]) -> list[CommitBatch]:
    registry = default_registry()
    store = SqliteStore(path)
    verifier = Verifier(threads=2)
    try:
        executed = execute_genesis(registry, store, make_genesis(FixedAccounts(), time_ms=T0))
        store.commit(executed)
        out = [executed]
        for batch in batches:
            executed = execute_block(registry, store, executed.header, batch,
                                     verifier=verifier, committed=store.committed)
            store.commit(executed)
            out.append(executed)
        return out
    finally:
        verifier.close()
        store.close()


EXPECTED = {
    0: ("2bb064d64648e69e4d1adb7618f6b107c4cccf87ac4fd07f1863a71bc0ef805e",
        "50c337314651b9ac5d9ac07eec2942e4456273d268e0ac2a62ce00f9eed79279",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ()),
    1: ("259cfa9733ff9edd76f4a76279bf2389f71a537ee71c1c11fa83aeccc20c679f",
        "2db01ae21495d267e754b4edd602a2346c0b09f8a286777200120fa675ba7da3",
        "ce27600b3150165d2db6984b8058dcc361b3b101ea25927a1eb601c46d986cf8",
        ("ok", "ok", "ok", "ok", "ok", "ok")),
    2: ("977a00d7b201682a9ddfc64e1a414ea6fe2caf57d4646bef4b21a049ec25a3af",
        "8ec05ef7dea6548d447f1503cc7e846dc17702bf127ea8f8182b7e0b3b5fc792",
        "5690c7a8927ce3d5139f69e27716ad1e807ea2cc4650d15403f37137ce39c4d1",
        ("ok", "missing_role", "insufficient_funds", "self_transfer", "ok", "replayed", "replayed")),
    3: ("7a7d54a91a47a6d0750a884add5d6aba5346eeaba891e4ebc24da0266064a8b9",
        "46b9b268e59f4778875a6954f1813096cedd63a7a4c60ddb9eee11f9fdcd51e1",
        "22a683f804ace585c5e74564c3b01d9282c77f41b2171efd257a9e1dfef094e7",
        ("bad_signature", "expired", "wrong_chain", "ok", "ok", "ok", "ok", "ok", "ok")),
    4: ("0e6b6ad21a0885c199f6c579dba27c404cc37633133a209e7fcf701cc3800b52",
        "d1473fd51bb9066f9b98f050d698d38b9edc6075102fbbbda3a47bc8a4123522",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ()),
}


def test_golden_chain_roots_are_unchanged(tmp_path) -> None:
    executed = run_golden(tmp_path / "golden.db", golden_batches())
    got = {
        e.header.height: (e.header.hash.hex(), e.header.state_root.hex(), e.header.receipt_root.hex(),
                          tuple(r.status for r in e.receipts))
        for e in executed
    }
    assert got == EXPECTED
