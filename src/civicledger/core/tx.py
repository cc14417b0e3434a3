"""Transactions: what a client signs, and how a node checks it without state.

A transaction body is the canonical encoding of the array

    [version, chain_id, contract, method, args, signer, cosigners, nonce, expires]

Its id is ``digest("civicledger/tx", body)``. The signer and every co-signer sign
``"civicledger/tx-signature" 0x00 || id`` with Ed25519. The signed envelope is
``[body, [signature, ...]]`` with the signer's signature first.

Replay protection needs no per-account counter: the random ``nonce`` makes
each transaction unique, the node refuses an id it has committed before, and
``expires`` bounds for how long a transaction may be included (at most
``MAX_TTL_MS`` after any block time at which it is accepted), so the set of ids
that must be remembered is bounded. One account can therefore have thousands
of transactions in flight at once, in any order.

A co-signed transaction is handed from party to party as a *partial*: the same
envelope encoding, ``[body, [signature, ...]]``, holding the signatures made so
far (the signer's first, then the co-signers' in the order the body names them),
written as URL-safe base64 without padding; the portal's co-signing link carries
the same text in its fragment. ``read_partial`` checks what the next party must
know before signing (every signature so far, the chain, the expiry);
``PartialTransaction.cosign`` adds the next signature; once every party has
signed, ``signed()`` is the envelope to submit.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from civicledger.core import encoding
from civicledger.core.address import address_of
from civicledger.core.crypto import (
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    KeyPair,
    digest,
    verify,
)
from civicledger.core.errors import BadSignature, EncodingError, Expired, WrongChain

TX_VERSION = 1
MAX_TX_SIZE = 32 * 1024
"""Largest signed envelope in bytes; content belongs in the blob store, not here."""
MAX_COSIGNERS = 8
MAX_TTL_MS = 24 * 3600 * 1000
"""Longest a transaction may stay valid after the block time it is accepted at."""
NONCE_MIN, NONCE_MAX = 8, 32
_NAME_MAX = 64

TX_ID_TAG = b"civicledger/tx"
SIGNATURE_TAG = b"civicledger/tx-signature\x00"


@dataclass(frozen=True, slots=True)
class Transaction:
    """An unsigned call of one contract method."""

    chain_id: str
    """Which ledger this is for; a transaction for another chain is refused."""
    contract: str
    method: str
    args: Mapping[str, Any]
    """Named arguments, checked against the method's schema."""
    signer: bytes
    """Public key of the account that acts."""
    nonce: bytes
    """8 to 32 client-chosen bytes (random) that make the transaction unique."""
    expires: int
    """Block time in Unix milliseconds after which it can no longer be included."""
    cosigners: tuple[bytes, ...] = ()
    """Public keys of further parties who must also sign (e.g. a buyer and a seller)."""

    def body(self) -> bytes:
        return encoding.encode(
            [
                TX_VERSION,
                self.chain_id,
                self.contract,
                self.method,
                dict(self.args),
                self.signer,
                list(self.cosigners),
                self.nonce,
                self.expires,
            ]
        )

    def sign(self, *keys: KeyPair) -> SignedTransaction:
        """Sign with the signer's key followed by each co-signer's, in order."""
        body = self.body()
        tx_id = digest(TX_ID_TAG, body)
        signatures = tuple(key.sign(SIGNATURE_TAG + tx_id) for key in keys)
        return SignedTransaction(self, body, tx_id, signatures)

    def start(self, signer: KeyPair) -> PartialTransaction:
        """Sign as the signer alone: a partial that awaits the co-signers (in order)."""
        if signer.public_key != self.signer:
            raise BadSignature("this key is not the transaction's signer", code="not_signer")
        body = self.body()
        tx_id = digest(TX_ID_TAG, body)
        return PartialTransaction(self, body, tx_id, (signer.sign(SIGNATURE_TAG + tx_id),))


@dataclass(frozen=True, slots=True)
class SignedTransaction:
    tx: Transaction
    body: bytes
    id: bytes
    signatures: tuple[bytes, ...]
    signer_addresses: tuple[bytes, ...] = field(default=(), compare=False)
    """Addresses of the signer and co-signers (derived, cached)."""
    encoded: bytes = field(default=b"", compare=False, repr=False)
    """The envelope bytes (derived, cached)."""
    checked_args: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The args as the admitting node's registry checked them (``Registry.check_call``), so
    its executor does not check them again; None for a transaction not admitted here (a block
    being replayed, say), whose args the executor checks."""

    def __post_init__(self) -> None:
        if not self.signer_addresses:
            keys = (self.tx.signer, *self.tx.cosigners)
            object.__setattr__(self, "signer_addresses", tuple(address_of(k) for k in keys))
        if not self.encoded:
            object.__setattr__(
                self, "encoded", encoding.encode([self.body, list(self.signatures)])
            )

    @property
    def public_keys(self) -> tuple[bytes, ...]:
        return (self.tx.signer, *self.tx.cosigners)

    @property
    def signed_message(self) -> bytes:
        return SIGNATURE_TAG + self.id

    def envelope(self) -> bytes:
        return self.encoded

    def admitted(self, checked_args: Mapping[str, Any]) -> SignedTransaction:
        """This transaction carrying the args its admission checked."""
        return SignedTransaction(self.tx, self.body, self.id, self.signatures, self.signer_addresses,
                                 self.encoded, checked_args)


def _refuse(message: str) -> EncodingError:
    return EncodingError(message)


def _short_text(text: object) -> bool:
    return type(text) is str and 0 < len(text) <= _NAME_MAX


def decode_body(body: bytes) -> Transaction:
    value = encoding.decode(body, max_size=MAX_TX_SIZE)
    if type(value) is not tuple or len(value) != 9:
        raise _refuse("transaction body must be a 9-item array")
    version, chain_id, contract, method, args, signer, cosigners, nonce, expires = value
    if type(version) is not int or version != TX_VERSION:  # True == 1, yet encodes differently
        raise _refuse(f"unsupported transaction version {version!r}")
    if not _short_text(chain_id):
        raise _refuse("chain id must be a short text")
    if not _short_text(contract):
        raise _refuse("contract must be a short text")
    if not _short_text(method):
        raise _refuse("method must be a short text")
    if type(args) is not dict:
        raise _refuse("args must be a map")
    if type(signer) is not bytes or len(signer) != PUBLIC_KEY_SIZE:
        raise _refuse("signer must be a public key")
    if type(cosigners) is not tuple or len(cosigners) > MAX_COSIGNERS:
        raise _refuse("too many co-signers")
    if cosigners:
        for key in cosigners:
            if type(key) is not bytes or len(key) != PUBLIC_KEY_SIZE:
                raise _refuse("co-signer must be a key")
        if len(set((signer, *cosigners))) != 1 + len(cosigners):
            raise _refuse("a key may sign only once")
    if type(nonce) is not bytes or not NONCE_MIN <= len(nonce) <= NONCE_MAX:
        raise _refuse("nonce: 8-32 bytes")
    if type(expires) is not int or not 0 <= expires < 2**53:
        raise _refuse("expires must be a Unix time in ms")
    return Transaction(chain_id, contract, method, args, signer, nonce, expires, cosigners)


def decode(envelope: bytes) -> SignedTransaction:
    """Decode and shape-check a signed envelope (signatures are checked separately)."""
    value = encoding.decode(envelope, max_size=MAX_TX_SIZE)
    if type(value) is not tuple or len(value) != 2:
        raise _refuse("envelope must be [body, signatures]")
    body, signatures = value
    if type(body) is not bytes:
        raise _refuse("envelope body must be bytes")
    if type(signatures) is not tuple:
        raise _refuse("signatures must be an array")
    for signature in signatures:
        if type(signature) is not bytes or len(signature) != SIGNATURE_SIZE:
            raise _refuse("bad signature size")
    tx = decode_body(body)
    if len(signatures) != 1 + len(tx.cosigners):
        raise _refuse("one signature per signer is required")
    return SignedTransaction(tx, body, digest(TX_ID_TAG, body), signatures, encoded=envelope)


def check_window(stx: SignedTransaction, chain_id: str, now_ms: int) -> None:
    """Refuse a transaction for another chain, or outside its validity window at ``now_ms``."""
    if stx.tx.chain_id != chain_id:
        raise WrongChain(f"transaction is for chain '{stx.tx.chain_id}', this is '{chain_id}'")
    if stx.tx.expires < now_ms:
        raise Expired(f"transaction expired at {stx.tx.expires}, block time is {now_ms}")
    if stx.tx.expires > now_ms + MAX_TTL_MS:
        raise Expired(
            f"expiry {stx.tx.expires} is more than {MAX_TTL_MS // 3_600_000} h ahead",
            code="expiry_too_far",
        )


def peek_id(envelope: bytes) -> bytes | None:
    """The id an envelope's body would have, without the full checks; None if unreadable.

    For bookkeeping at the edges (labelling a refused submission); never a verdict.
    """
    try:
        value = encoding.decode_trusted(envelope)
    except Exception:  # noqa: BLE001 - any unreadable input simply has no id
        return None
    if type(value) is not tuple or len(value) != 2 or type(value[0]) is not bytes:
        return None
    return digest(TX_ID_TAG, value[0])


MAX_PARTIAL_TEXT = (MAX_TX_SIZE + 2) // 3 * 4
"""Longest text of a partial transaction."""


@dataclass(frozen=True, slots=True)
class PartialTransaction:
    """A transaction signed by its first parties, awaiting the rest (see the module's docstring)."""

    tx: Transaction
    body: bytes
    id: bytes
    signatures: tuple[bytes, ...]
    """The signer's signature first, then those of the first co-signers, in the body's order."""

    @property
    def awaiting(self) -> tuple[bytes, ...]:
        """Public keys of the co-signers yet to sign, in the order they must sign."""
        return self.tx.cosigners[len(self.signatures) - 1:]

    @property
    def complete(self) -> bool:
        return not self.awaiting

    def encode(self) -> bytes:
        return encoding.encode([self.body, list(self.signatures)])

    def text(self) -> str:
        """URL-safe base64 without padding: a file's content, or a co-signing link's fragment."""
        return base64.urlsafe_b64encode(self.encode()).decode().rstrip("=")

    def cosign(self, key: KeyPair) -> PartialTransaction:
        """Add ``key``'s signature: it must be the next co-signer the body names."""
        mine = key.public_key
        if mine == self.tx.signer or mine in self.tx.cosigners[:len(self.signatures) - 1]:
            raise BadSignature("this key has signed this transaction already",
                               code="already_signed")
        if mine not in self.tx.cosigners:
            raise BadSignature("this key is not a co-signer the transaction names",
                               code="not_cosigner")
        if mine != self.awaiting[0]:
            raise BadSignature("another co-signer must sign before this key",
                               code="cosigner_out_of_turn")
        signature = key.sign(SIGNATURE_TAG + self.id)
        return PartialTransaction(self.tx, self.body, self.id, (*self.signatures, signature))

    def signed(self) -> SignedTransaction:
        """The complete transaction, to submit."""
        if not self.complete:
            raise BadSignature(f"{len(self.awaiting)} co-signer(s) have not signed yet",
                               code="awaiting_cosigners")
        return SignedTransaction(self.tx, self.body, self.id, self.signatures)


def read_partial(data: str | bytes, chain_id: str, now_ms: int) -> PartialTransaction:
    """A partial transaction from its text (or bytes), checked before anyone adds to it.

    Refused with a code: ``malformed`` (unreadable), ``bad_signature`` (a signature so
    far, the signer's first, does not verify), ``wrong_chain`` (for another chain than
    ``chain_id``), ``expired`` or ``expiry_too_far`` (outside its window at ``now_ms``).
    """
    if isinstance(data, str):
        text = "".join(data.split())  # a file may end with a newline, a mail may wrap lines
        if len(text) > MAX_PARTIAL_TEXT:
            raise EncodingError("a partial transaction's text is too long")
        try:
            data = base64.urlsafe_b64decode(
                text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise EncodingError("a partial transaction is URL-safe base64 text") from None
    value = encoding.decode(data, max_size=MAX_TX_SIZE)
    if type(value) is not tuple or len(value) != 2 or type(value[0]) is not bytes:
        raise EncodingError("a partial transaction is [body, signatures]")
    body, signatures = value
    tx = decode_body(body)
    if (type(signatures) is not tuple or not 1 <= len(signatures) <= 1 + len(tx.cosigners)
            or any(type(s) is not bytes or len(s) != SIGNATURE_SIZE for s in signatures)):
        raise EncodingError("a partial transaction holds one to all of its signatures")
    partial = PartialTransaction(tx, body, digest(TX_ID_TAG, body), signatures)
    for key, signature in zip((tx.signer, *tx.cosigners), signatures, strict=False):
        if not verify(key, SIGNATURE_TAG + partial.id, signature):
            who = "the signer's" if key == tx.signer else "a co-signer's"
            raise BadSignature(f"{who} signature does not verify: the transaction was altered "
                               "or signed by another key")
    check_window(SignedTransaction(tx, body, partial.id, signatures, encoded=data), chain_id,
                 now_ms)
    return partial
