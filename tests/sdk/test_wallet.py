from __future__ import annotations

import os
import stat

import pytest

from civicledger.core import tx as txs
from civicledger.core.address import to_text
from civicledger.core.crypto import verify
from civicledger.core.errors import KeyFileError
from civicledger.sdk import Wallet
from civicledger.sdk.client import coerce


def test_a_wallet_round_trips_through_its_key_file(tmp_path):
    wallet = Wallet.create()
    wallet.save(tmp_path / "w.json", "correct horse", label="home")
    assert Wallet.load(tmp_path / "w.json", "correct horse").address == wallet.address
    with pytest.raises(KeyFileError):
        Wallet.load(tmp_path / "w.json", "wrong")
    assert wallet.address_text in repr(wallet) and wallet.keypair.seed.hex() not in repr(wallet)


def test_a_saved_key_file_is_readable_by_its_owner_only(tmp_path):
    old = os.umask(0o022)  # files default to world-readable, as on most systems
    try:
        path = tmp_path / "w.json"
        path.write_bytes(b"an older key")
        Wallet.create().save(path, "correct horse")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["w.json"]


def test_a_signed_call_verifies_and_names_its_cosigners():
    seller, buyer = Wallet.create(), Wallet.create()
    stx = seller.sign("c", "vehicles", "transfer", {"vin": "X"}, now_ms=1_000, cosigners=[buyer])
    decoded = txs.decode(stx.envelope())
    assert decoded.signer_addresses == (seller.address, buyer.address)
    assert all(verify(k, decoded.signed_message, s)
               for k, s in zip(decoded.public_keys, decoded.signatures, strict=True))
    assert decoded.tx.expires == 1_000 + 10 * 60 * 1000
    with pytest.raises(ValueError):
        seller.sign("c", "token", "transfer", {}, now_ms=0, ttl_ms=0)


def test_coerce_follows_the_method_schema():
    address = bytes(range(20))
    schema = {"type": "object", "properties": {
        "to": {"type": "string", "format": "civ1-address"},
        "photo": {"anyOf": [{"type": "string", "format": "hex"}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"type": "string", "format": "civ1-address"}},
        "amount": {"type": "integer"},
    }}
    value = {"to": to_text(address), "photo": "ab", "tags": [to_text(address)], "amount": 3}
    assert coerce(schema, value) == {"to": address, "photo": b"\xab", "tags": [address], "amount": 3}
    assert coerce(schema, {"photo": None}) == {"photo": None}
