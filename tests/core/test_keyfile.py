"""Key files: sealed under a passphrase, readable in clear where harmless, refused when altered."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable
from typing import Any

import pytest
from nacl.pwhash import argon2id
from nacl.secret import SecretBox

from civicledger.core import keyfile
from civicledger.core.address import address_of, to_text
from civicledger.core.crypto import KeyPair
from civicledger.core.errors import CivicError, KeyFileError, NodeFault, Rejection
from civicledger.core.keyfile import public_info, seal, unseal

FAST = {"opslimit": argon2id.OPSLIMIT_INTERACTIVE, "memlimit": argon2id.MEMLIMIT_INTERACTIVE}
KEY = KeyPair.from_seed(bytes(range(32)))
PASSPHRASE = "correct horse 배터리 staple"


@pytest.fixture(scope="module")
def sealed() -> bytes:
    return seal(KEY, PASSPHRASE, label="alice's phone", **FAST)


def edited(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    doc = json.loads(data)
    change(doc)
    return json.dumps(doc).encode()


def refused(data: bytes, code: str, passphrase: str = PASSPHRASE) -> KeyFileError:
    with pytest.raises(KeyFileError) as caught:
        unseal(data, passphrase)
    assert caught.value.code == code, caught.value
    return caught.value


# -- round trip and format -------------------------------------------------------


def test_seal_then_unseal_round_trips(sealed: bytes) -> None:
    assert unseal(sealed, PASSPHRASE) == KEY


def test_file_is_json_with_clear_public_fields(sealed: bytes) -> None:
    doc = json.loads(sealed.decode("utf-8"))
    assert doc["format"] == "civicledger-keyfile"
    assert doc["version"] == 1
    assert doc["label"] == "alice's phone"
    assert doc["public_key"] == KEY.public_key.hex()
    assert doc["address"] == to_text(address_of(KEY.public_key))
    assert doc["kdf"]["name"] == "argon2id"
    assert doc["kdf"]["opslimit"] == argon2id.OPSLIMIT_INTERACTIVE
    assert doc["kdf"]["memlimit"] == argon2id.MEMLIMIT_INTERACTIVE
    assert len(base64.b64decode(doc["kdf"]["salt"])) == argon2id.SALTBYTES
    assert doc["cipher"]["name"] == "xsalsa20poly1305"
    assert len(base64.b64decode(doc["cipher"]["nonce"])) == 24
    assert KEY.seed.hex() not in sealed.decode()
    assert base64.b64encode(KEY.seed).decode() not in sealed.decode()


def test_public_info_needs_no_passphrase(sealed: bytes) -> None:
    info = public_info(sealed)
    assert info.public_key == KEY.public_key
    assert info.address == to_text(address_of(KEY.public_key))
    assert info.label == "alice's phone"


def test_each_seal_uses_a_fresh_salt_and_nonce() -> None:
    first = json.loads(seal(KEY, PASSPHRASE, **FAST))
    second = json.loads(seal(KEY, PASSPHRASE, **FAST))
    assert first["kdf"]["salt"] != second["kdf"]["salt"]
    assert first["cipher"]["nonce"] != second["cipher"]["nonce"]
    assert first["cipher"]["ciphertext"] != second["cipher"]["ciphertext"]


def test_passphrase_is_unicode_normalised() -> None:
    composed = "한글"  # precomposed syllables (NFC), as most keyboards type them
    decomposed = "\u1112\u1161\u11ab\u1100\u1173\u11af"  # the same text in jamo (NFD)
    assert composed != decomposed
    data = seal(KEY, composed, **FAST)
    assert unseal(data, decomposed) == KEY


def test_defaults_are_the_documented_moderate_limits() -> None:
    assert keyfile.DEFAULT_OPSLIMIT == argon2id.OPSLIMIT_MODERATE
    assert keyfile.DEFAULT_MEMLIMIT == 4 * argon2id.MEMLIMIT_INTERACTIVE


def test_key_file_error_is_a_civic_error_but_no_rejection() -> None:
    assert issubclass(KeyFileError, CivicError)
    assert not issubclass(KeyFileError, Rejection | NodeFault)


# -- refusals --------------------------------------------------------------------


def test_wrong_passphrase(sealed: bytes) -> None:
    error = refused(sealed, "wrong_passphrase", passphrase="correct horse battery staple")
    assert "passphrase" in error.message


def test_tampered_ciphertext(sealed: bytes) -> None:
    def flip(doc: dict[str, Any]) -> None:
        raw = bytearray(base64.b64decode(doc["cipher"]["ciphertext"]))
        raw[0] ^= 1
        doc["cipher"]["ciphertext"] = base64.b64encode(bytes(raw)).decode()

    refused(edited(sealed, flip), "wrong_passphrase")


@pytest.mark.parametrize("field", ["salt", "nonce"])
def test_tampered_salt_or_nonce(sealed: bytes, field: str) -> None:
    section = "kdf" if field == "salt" else "cipher"

    def change(doc: dict[str, Any]) -> None:
        raw = bytearray(base64.b64decode(doc[section][field]))
        raw[-1] ^= 0x80
        doc[section][field] = base64.b64encode(bytes(raw)).decode()

    refused(edited(sealed, change), "wrong_passphrase")


def test_tampered_public_key_and_address(sealed: bytes) -> None:
    other = KeyPair.from_seed(bytes(32))

    def swap(doc: dict[str, Any]) -> None:
        doc["public_key"] = other.public_key.hex()
        doc["address"] = to_text(address_of(other.public_key))

    refused(edited(sealed, swap), "bad_keyfile")
    # the clear fields alone look fine until the seal is opened
    assert public_info(edited(sealed, swap)).public_key == other.public_key


def test_address_not_matching_public_key(sealed: bytes) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["address"] = to_text(bytes(20))

    refused(edited(sealed, change), "bad_keyfile")
    with pytest.raises(KeyFileError):
        public_info(edited(sealed, change))


def test_tampered_label(sealed: bytes) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["label"] = "mallory's phone"

    assert "label" in refused(edited(sealed, change), "bad_keyfile").message


@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_unknown_version(sealed: bytes, version: Any) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["version"] = version

    refused(edited(sealed, change), "unsupported_version")


EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "other format": lambda d: d.update(format="pem"),
    "no format": lambda d: d.pop("format"),
    "kdf scrypt": lambda d: d["kdf"].update(name="scrypt"),
    "cipher aes": lambda d: d.update(cipher={**d["cipher"], "name": "aes-gcm"}),
    "no kdf": lambda d: d.pop("kdf"),
    "opslimit text": lambda d: d["kdf"].update(opslimit="2"),
    "opslimit huge": lambda d: d["kdf"].update(opslimit=10**6),
    "memlimit huge": lambda d: d["kdf"].update(memlimit=2**40),
    "memlimit tiny": lambda d: d["kdf"].update(memlimit=1024),
    "salt short": lambda d: d["kdf"].update(salt=base64.b64encode(bytes(8)).decode()),
    "salt not base64": lambda d: d["kdf"].update(salt="not base64!"),
    "nonce missing": lambda d: d["cipher"].pop("nonce"),
    "ciphertext int": lambda d: d["cipher"].update(ciphertext=7),
    "public key short": lambda d: d.update(public_key="00" * 31),
    "public key not hex": lambda d: d.update(public_key="zz" * 32),
    "label not text": lambda d: d.update(label=5),
    "label control char": lambda d: d.update(label="a\nb"),
}


@pytest.mark.parametrize("change", EDITS.values(), ids=EDITS.keys())
def test_malformed_key_files(sealed: bytes, change: Callable[[dict[str, Any]], None]) -> None:
    refused(edited(sealed, change), "bad_keyfile")


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xfe", b"[1, 2]", b"null", b"{", b"not json", b"[" * 5000, b" " * 20_000],
    ids=["empty", "not utf-8", "array", "null", "truncated", "text", "deep", "huge"],
)
def test_not_a_key_file(data: bytes) -> None:
    refused(data, "bad_keyfile")
    with pytest.raises(KeyFileError):
        public_info(data)


def test_sealed_part_that_is_not_a_key() -> None:
    """A file sealed correctly around the wrong content is still refused."""
    data = seal(KEY, PASSPHRASE, **FAST)
    doc = json.loads(data)
    salt = base64.b64decode(doc["kdf"]["salt"])
    key = keyfile._derive(PASSPHRASE, salt, FAST["opslimit"], FAST["memlimit"])
    sealed = SecretBox(key).encrypt(b"\x00" * 32)
    doc["cipher"]["nonce"] = base64.b64encode(sealed.nonce).decode()
    doc["cipher"]["ciphertext"] = base64.b64encode(sealed.ciphertext).decode()
    refused(json.dumps(doc).encode(), "bad_keyfile")


# -- sealing refusals ------------------------------------------------------------


def test_seal_refuses_an_empty_passphrase() -> None:
    with pytest.raises(KeyFileError) as caught:
        seal(KEY, "", **FAST)
    assert caught.value.code == "empty_passphrase"


@pytest.mark.parametrize(
    "params",
    [
        {"label": "x" * 121},
        {"label": "tab\there"},
        {"opslimit": 0},
        {"memlimit": argon2id.MEMLIMIT_SENSITIVE + 1},
    ],
    ids=repr,
)
def test_seal_refuses_bad_parameters(params: dict[str, Any]) -> None:
    with pytest.raises(KeyFileError) as caught:
        seal(KEY, PASSPHRASE, **{**FAST, **params})
    assert caught.value.code == "bad_params"


def test_long_korean_label_is_fine() -> None:
    label = "서울시청 " * 24  # 120 characters
    data = seal(KEY, PASSPHRASE, label=label, **FAST)
    assert public_info(data).label == label
    assert unseal(data, PASSPHRASE) == KEY


# -- writing ---------------------------------------------------------------------


@pytest.fixture
def loose_umask():
    """Files default to world-readable (0644), as on most systems."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_write_makes_an_owner_only_file_and_replaces_atomically(tmp_path, loose_umask,
                                                                 sealed: bytes) -> None:
    path = tmp_path / "alice.json"
    path.write_bytes(b"an older key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    keyfile.write(path, sealed)
    assert path.read_bytes() == sealed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["alice.json"]  # no temporary left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch,
                                                             sealed: bytes) -> None:
    path = tmp_path / "alice.json"
    path.write_bytes(b"the old key")

    def fail(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        keyfile.write(path, sealed)
    assert path.read_bytes() == b"the old key"
    assert [p.name for p in tmp_path.iterdir()] == ["alice.json"]
