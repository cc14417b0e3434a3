"""Key files: an Ed25519 seed sealed under a passphrase (bytes in, bytes out), and
``write``, the one way a key file reaches the disk (0600, atomically) for the CLI and SDK.

A key file is UTF-8 JSON::

    {
      "format": "civicledger-keyfile",
      "version": 1,
      "label": "alice at home",
      "public_key": "<hex>",
      "address": "civ1…",
      "kdf": {"name": "argon2id", "opslimit": 3, "memlimit": 268435456, "salt": "<base64>"},
      "cipher": {"name": "xsalsa20poly1305", "nonce": "<base64>", "ciphertext": "<base64>"}
    }

The key is derived from the passphrase (Unicode NFC-normalised, then UTF-8) with
Argon2id and the salt, and seals the canonical encoding of ``{"label", "seed"}``
in a libsodium ``SecretBox`` (XSalsa20-Poly1305). The public key, address and
label stay in clear so that a key list can show them without the passphrase;
opening a file checks them against the sealed seed and label, so an edited
clear field is refused rather than trusted.

Cost of the default: Argon2id with ``OPSLIMIT_MODERATE`` (3 passes) over
``MEMLIMIT_MODERATE`` (256 MiB, four times libsodium's interactive setting) —
about 0.8 s on the development machine, and every passphrase guess costs an attacker
the same 256 MiB. Tests pass the ``INTERACTIVE`` limits to stay fast. A file's
limits are honoured when it is opened, within libsodium's range up to the
``SENSITIVE`` setting, so a crafted file cannot make the reader allocate more
than 1 GiB.

Errors are ``KeyFileError`` with code ``wrong_passphrase`` (the passphrase is
wrong, or the sealed part was altered — the two cannot be told apart),
``bad_keyfile`` (not a key file, or its clear fields were altered),
``unsupported_version``, ``bad_params`` or ``empty_passphrase`` (when sealing).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.utils
from nacl.pwhash import argon2id
from nacl.secret import SecretBox

from civicledger.core import encoding
from civicledger.core.address import address_of, to_text
from civicledger.core.crypto import PUBLIC_KEY_SIZE, SEED_SIZE, KeyPair
from civicledger.core.errors import EncodingError, KeyFileError

FORMAT = "civicledger-keyfile"
VERSION = 1
KDF_NAME = "argon2id"
CIPHER_NAME = "xsalsa20poly1305"

DEFAULT_OPSLIMIT = argon2id.OPSLIMIT_MODERATE
DEFAULT_MEMLIMIT = argon2id.MEMLIMIT_MODERATE
"""256 MiB = 4 × ``MEMLIMIT_INTERACTIVE``."""
OPSLIMIT_RANGE = (argon2id.OPSLIMIT_MIN, argon2id.OPSLIMIT_SENSITIVE)
MEMLIMIT_RANGE = (argon2id.MEMLIMIT_MIN, argon2id.MEMLIMIT_SENSITIVE)

MAX_LABEL = 120
MAX_FILE_SIZE = 16 * 1024
_PLAINTEXT_MAX = 1024


@dataclass(frozen=True, slots=True)
class KeyFileInfo:
    """What a key file shows without its passphrase."""

    public_key: bytes
    address: str
    """The ``civ1…`` text of the key's address."""
    label: str


def seal(
    keypair: KeyPair,
    passphrase: str,
    *,
    label: str = "",
    opslimit: int = DEFAULT_OPSLIMIT,
    memlimit: int = DEFAULT_MEMLIMIT,
) -> bytes:
    """The key file bytes holding ``keypair`` sealed under ``passphrase``."""
    if not passphrase:
        raise KeyFileError("a key file needs a non-empty passphrase", code="empty_passphrase")
    if type(label) is not str or not _label_ok(label):
        raise KeyFileError(
            f"a key label is printable text of at most {MAX_LABEL} characters", code="bad_params"
        )
    _check_limits(opslimit, memlimit)
    salt = nacl.utils.random(argon2id.SALTBYTES)
    box = SecretBox(_derive(passphrase, salt, opslimit, memlimit))
    plaintext = encoding.encode({"label": label, "seed": keypair.seed})
    sealed = box.encrypt(plaintext)
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "label": label,
        "public_key": keypair.public_key.hex(),
        "address": to_text(address_of(keypair.public_key)),
        "kdf": {"name": KDF_NAME, "opslimit": opslimit, "memlimit": memlimit, "salt": _b64(salt)},
        "cipher": {
            "name": CIPHER_NAME,
            "nonce": _b64(sealed.nonce),
            "ciphertext": _b64(sealed.ciphertext),
        },
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()


def unseal(data: bytes, passphrase: str) -> KeyPair:
    """The key pair in key file ``data``; raises KeyFileError naming what is wrong."""
    doc = _load(data)
    info = _info(doc)
    kdf, cipher = _section(doc, "kdf", KDF_NAME), _section(doc, "cipher", CIPHER_NAME)
    opslimit, memlimit = _int(kdf, "opslimit"), _int(kdf, "memlimit")
    try:
        _check_limits(opslimit, memlimit)
    except KeyFileError:
        raise KeyFileError("the key file's Argon2id limits are out of range") from None
    salt = _bytes(kdf, "salt", argon2id.SALTBYTES, argon2id.SALTBYTES)
    nonce = _bytes(cipher, "nonce", SecretBox.NONCE_SIZE, SecretBox.NONCE_SIZE)
    ciphertext = _bytes(cipher, "ciphertext", SecretBox.MACBYTES, _PLAINTEXT_MAX)
    box = SecretBox(_derive(passphrase, salt, opslimit, memlimit))
    try:
        plaintext = box.decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError:
        raise KeyFileError(
            "wrong passphrase, or the key file's sealed part was altered", code="wrong_passphrase"
        ) from None
    try:
        sealed = encoding.decode(plaintext, max_size=_PLAINTEXT_MAX)
    except EncodingError:
        raise KeyFileError("the sealed part of the key file is not a key") from None
    if (
        type(sealed) is not dict
        or set(sealed) != {"label", "seed"}
        or type(sealed["seed"]) is not bytes
        or len(sealed["seed"]) != SEED_SIZE
    ):
        raise KeyFileError("the sealed part of the key file is not a key")
    keypair = KeyPair.from_seed(sealed["seed"])
    if keypair.public_key != info.public_key:
        raise KeyFileError("the key file's public key does not match its sealed key")
    if sealed["label"] != info.label:
        raise KeyFileError("the key file's label was changed after it was sealed")
    return keypair


def public_info(data: bytes) -> KeyFileInfo:
    """The clear fields of key file ``data`` (not authenticated until ``unseal``)."""
    return _info(_load(data))


def write(path: str | Path, data: bytes) -> None:
    """Put key file ``data`` at ``path``, readable and writable by its owner only (0600).

    The bytes go to a new temporary file beside ``path``, created 0600 (so no other user can
    read it even for a moment, whatever the umask), are fsynced, and the file is renamed over
    ``path``; the directory is fsynced so the rename survives power loss. A crash leaves the
    old file or the new one, never a part of either. OSError if the directory cannot be
    written (it must exist).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# -- parsing ---------------------------------------------------------------------


def _load(data: bytes) -> dict[str, Any]:
    if type(data) is not bytes or len(data) > MAX_FILE_SIZE:
        raise KeyFileError(f"a key file is at most {MAX_FILE_SIZE} bytes of UTF-8 JSON")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError among them
        raise KeyFileError("not a key file: not UTF-8 JSON") from None
    if type(doc) is not dict or doc.get("format") != FORMAT:
        raise KeyFileError(f'not a key file: no "format": "{FORMAT}"')
    version = doc.get("version")
    if type(version) is not int or version != VERSION:
        raise KeyFileError(
            f"key file version {version!r} is not supported (this program reads {VERSION})",
            code="unsupported_version",
        )
    return doc


def _info(doc: dict[str, Any]) -> KeyFileInfo:
    label = doc.get("label")
    if type(label) is not str or not _label_ok(label):
        raise KeyFileError("the key file's label is not a valid label")
    public_key = _hex(doc, "public_key", PUBLIC_KEY_SIZE)
    address = doc.get("address")
    if address != to_text(address_of(public_key)):
        raise KeyFileError("the key file's address does not belong to its public key")
    return KeyFileInfo(public_key, address, label)


def _section(doc: dict[str, Any], name: str, algorithm: str) -> dict[str, Any]:
    section = doc.get(name)
    if type(section) is not dict or section.get("name") != algorithm:
        raise KeyFileError(f"the key file's {name} is not {algorithm}")
    return section


def _int(section: dict[str, Any], name: str) -> int:
    value = section.get(name)
    if type(value) is not int:
        raise KeyFileError(f"the key file's {name} is not an integer")
    return value


def _bytes(section: dict[str, Any], name: str, low: int, high: int) -> bytes:
    text = section.get(name)
    try:
        if type(text) is not str:
            raise ValueError
        value = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, binascii.Error):
        raise KeyFileError(f"the key file's {name} is not base64") from None
    if not low <= len(value) <= high:
        raise KeyFileError(f"the key file's {name} has the wrong size")
    return value


def _hex(doc: dict[str, Any], name: str, size: int) -> bytes:
    text = doc.get(name)
    try:
        if type(text) is not str or len(text) != 2 * size:
            raise ValueError
        return bytes.fromhex(text)
    except ValueError:
        raise KeyFileError(f"the key file's {name} is not {size} bytes of hex") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _label_ok(label: str) -> bool:
    return len(label) <= MAX_LABEL and label.isprintable()


def _check_limits(opslimit: int, memlimit: int) -> None:
    if not OPSLIMIT_RANGE[0] <= opslimit <= OPSLIMIT_RANGE[1]:
        raise KeyFileError(f"opslimit must lie in {list(OPSLIMIT_RANGE)}", code="bad_params")
    if not MEMLIMIT_RANGE[0] <= memlimit <= MEMLIMIT_RANGE[1]:
        raise KeyFileError(f"memlimit must lie in {list(MEMLIMIT_RANGE)}", code="bad_params")


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return argon2id.kdf(SecretBox.KEY_SIZE, secret, salt, opslimit=opslimit, memlimit=memlimit)
