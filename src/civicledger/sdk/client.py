"""The gateway client: sign calls locally, submit, wait, read, follow events, verify proofs.

    client = Client("http://127.0.0.1:8700")
    alice = Wallet.load("alice.key", passphrase)
    outcome = client.call(alice, "token", "transfer", currency="CIV", to="civ1…", amount=5)
    client.query("token", "balance", currency="CIV", account=alice.address_text)
    for event in client.events(account=alice.address_text, limit=1): ...

Arguments may be given as JSON-style values: the client reads each method's
schema from the gateway and turns ``civ1…`` text into an address and hex into
bytes where the schema asks for bytes, before signing.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from httpx_sse import connect_sse

from civicledger.core import address as addresses
from civicledger.core import merkle
from civicledger.core import tx as txs
from civicledger.core.attestation import signing_payload
from civicledger.core.block import BlockHeader
from civicledger.core.crypto import verify
from civicledger.core.encoding import decode
from civicledger.core.errors import CivicError
from civicledger.core.tx import NONCE_MAX, PartialTransaction, SignedTransaction, Transaction
from civicledger.sdk.errors import ClientError, ProofError, Refused, TransactionFailed, Unavailable
from civicledger.sdk.wallet import Wallet

OK = "ok"
HANDOFF_TTL_MS = 30 * 60 * 1000
"""How long a co-signed call started here stays valid by default (as the portal's links)."""
MAX_HEADER = 4096
"""Bytes a block header may take; a larger one is refused unread."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a submitted transaction."""

    tx_id: str | None
    state: str
    """``pending``, ``committed``, ``refused`` (before ordering), or ``failed`` (admitted, then
    the node faulted before its block was durable; ``error`` holds the fault)."""
    height: int | None = None
    index: int | None = None
    receipt: dict[str, Any] | None = None
    error: dict[str, str] | None = None

    @property
    def committed(self) -> bool:
        return self.state == "committed"

    @property
    def ok(self) -> bool:
        """Committed and its call succeeded."""
        return self.committed and self.receipt is not None and self.receipt["status"] == OK


@dataclass(frozen=True, slots=True)
class Inclusion:
    """A transaction proven to be in a block, checked with nothing but the block's header."""

    tx_id: str
    height: int
    index: int
    block_hash: str
    tx_root: str
    header: BlockHeader


@dataclass(frozen=True, slots=True)
class Attested:
    """A block header that member peers signed, checked here signature by signature."""

    height: int
    block_hash: str
    signers: tuple[str, ...]
    """The organisations whose valid signature names exactly this header."""
    quorum: int
    """How many make the block final (0 on a solo node, whose blocks are final once committed)."""

    @property
    def final(self) -> bool:
        return len(self.signers) >= self.quorum


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One message of the live stream: ``kind`` is ``event``, ``block`` or ``lagged``."""

    id: str
    kind: str
    data: dict[str, Any]


def _local_ms() -> int:
    return time.time_ns() // 1_000_000


T = TypeVar("T")


def _refusing(action: Callable[[], T]) -> T:
    """``action()``, a ledger refusal raised as the SDK's ``Refused`` (same code and message)."""
    try:
        return action()
    except CivicError as error:
        raise Refused(error.code, error.message) from None


def _outcome(data: Mapping[str, Any]) -> Outcome:
    return Outcome(data.get("tx_id"), data["state"], data.get("height"), data.get("index"),
                   data.get("receipt"), data.get("error"))


def coerce(schema: Mapping[str, Any], value: Any) -> Any:
    """Turn a JSON-style ``value`` into the ledger value ``schema`` (a gateway JSON Schema) asks for."""
    if "anyOf" in schema:
        if value is None:
            return None
        return coerce(next(s for s in schema["anyOf"] if s.get("type") != "null"), value)
    kind = schema.get("type")
    if kind == "string" and schema.get("format") == "civ1-address" and isinstance(value, str):
        return addresses.from_text(value)
    if kind == "string" and schema.get("format") == "hex" and isinstance(value, str):
        return bytes.fromhex(value)
    if kind == "array" and isinstance(value, list | tuple):
        return [coerce(schema.get("items", {}), v) for v in value]
    if kind == "object" and isinstance(value, Mapping) and "properties" in schema:
        props = schema["properties"]
        return {k: coerce(props[k], v) if k in props else v for k, v in value.items()}
    return value


class Client:
    def __init__(self, base_url: str, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/") + "/v1", timeout=timeout,
                                 transport=transport)
        self._schemas: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._chain_id: str | None = None
        self._ahead_ms: int | None = None
        """How far the chain's clock runs ahead of this machine's (a dev chain's may)."""

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise Unavailable("unreachable", f"{type(error).__name__}: {error}") from None
        if response.is_success:
            return response.json()
        try:
            detail = response.json()["error"]
            code, message = detail["code"], detail["message"]
        except (ValueError, KeyError, TypeError):
            code, message = "http_error", response.text[:200] or response.reason_phrase
        retry = response.headers.get("retry-after")
        cls = Unavailable if response.status_code >= 500 else Refused
        raise cls(code, message, status=response.status_code,
                  retry_after=float(retry) if retry and retry.isdigit() else None)

    # -- chain and contracts -------------------------------------------------------------------

    def chain(self) -> dict[str, Any]:
        """Chain id, the latest header and the contract names."""
        info: dict[str, Any] = self._request("GET", "/chain")
        if isinstance(info.get("now_ms"), int):
            self._ahead_ms = max(0, info["now_ms"] - _local_ms())
        return info

    def now_ms(self) -> int:
        """The chain's time now, as last learnt from the gateway (``chain()`` refreshes it):
        this machine's clock, or later on a dev chain whose clock was moved forward. Expiries
        of what this client signs count from it."""
        if self._ahead_ms is None:
            self.chain()
        return _local_ms() + (self._ahead_ms or 0)

    def advance_time(self, ms: int) -> dict[str, Any]:
        """Move a dev chain's clock ``ms`` forward (``civic up --dev-clock`` only; elsewhere
        ``Refused`` with ``dev_clock_off``): ``now_ms``, ``offset_ms`` and ``head_time_ms``."""
        moved: dict[str, Any] = self._request("POST", "/dev/advance-time", json={"ms": ms})
        self._ahead_ms = max(0, moved["now_ms"] - _local_ms())
        return moved

    @property
    def chain_id(self) -> str:
        if self._chain_id is None:
            self._chain_id = self.chain()["chain_id"]
        return self._chain_id

    def contract(self, name: str) -> dict[str, Any]:
        """A contract's methods, queries and events with their argument schemas."""
        info: dict[str, Any] = self._request("GET", f"/contracts/{name}")
        return info

    def _schema(self, contract: str, kind: str, name: str) -> dict[str, Any]:
        key = (contract, kind, name)
        if key not in self._schemas:
            info = self.contract(contract)
            for handler_kind in ("methods", "queries"):
                for handler in info[handler_kind]:
                    self._schemas[contract, handler_kind, handler["name"]] = handler["args"]
        if key not in self._schemas:
            raise Refused("unknown_method", f"contract '{contract}' has no {kind[:-1]} '{name}'")
        return self._schemas[key]

    # -- transactions --------------------------------------------------------------------------

    def build(self, wallet: Wallet, contract: str, method: str, args: Mapping[str, Any], *,
              cosigners: Sequence[Wallet] = (), ttl_ms: int = 10 * 60 * 1000) -> SignedTransaction:
        """A signed call, arguments converted by the method's schema."""
        schema = self._schema(contract, "methods", method)
        native = coerce(schema, dict(args))
        return wallet.sign(self.chain_id, contract, method, native, now_ms=self.now_ms(),
                           ttl_ms=ttl_ms, cosigners=cosigners)

    def start_cosigned(self, wallet: Wallet, contract: str, method: str, args: Mapping[str, Any],
                       *, cosigners: Sequence[str | bytes | Wallet],
                       ttl_ms: int = HANDOFF_TTL_MS) -> PartialTransaction:
        """Sign a call that ``cosigners`` (``civ1…`` accounts, public keys or wallets) must
        co-sign, in that order: hand its ``text()`` to the first of them (a file, a message).

        An account is looked up on the gateway (``public_key``), so it must have signed a
        committed transaction before; give its public key otherwise.
        """
        schema = self._schema(contract, "methods", method)
        keys = tuple(self._cosigner_key(c) for c in cosigners)
        tx = Transaction(self.chain_id, contract, method, coerce(schema, dict(args)),
                         wallet.public_key, os.urandom(NONCE_MAX // 2), self.now_ms() + ttl_ms, keys)
        return _refusing(lambda: tx.start(wallet.keypair))

    def _cosigner_key(self, who: str | bytes | Wallet) -> bytes:
        if isinstance(who, Wallet):
            return who.public_key
        if isinstance(who, bytes):
            return who
        return self.public_key(who)

    def read_partial(self, text: str | bytes) -> PartialTransaction:
        """A partial transaction handed over, checked against this chain before signing it:
        ``Refused`` with ``malformed``, ``bad_signature`` (the signatures so far do not
        verify), ``wrong_chain``, ``expired`` or ``expiry_too_far``."""
        now = self.now_ms()
        return _refusing(lambda: txs.read_partial(text, self.chain_id, now))

    def cosign(self, partial: PartialTransaction | str | bytes, wallet: Wallet) -> PartialTransaction:
        """Add ``wallet``'s signature (read and checked first if given as text); ``Refused``
        with ``not_cosigner``, ``already_signed`` or ``cosigner_out_of_turn`` if it may not.
        Submit it once ``complete``; otherwise hand its ``text()`` to the next co-signer."""
        handed = partial if isinstance(partial, PartialTransaction) else self.read_partial(partial)
        return _refusing(lambda: handed.cosign(wallet.keypair))

    def submit(self, tx: SignedTransaction | PartialTransaction | bytes, *, wait: bool = True,
               timeout_ms: int = 10_000) -> Outcome:
        """Submit one signed transaction (or a complete partial); raises Refused if refused
        before ordering, ``awaiting_cosigners`` for a partial that some have not signed yet."""
        if isinstance(tx, PartialTransaction):
            complete = tx
            tx = _refusing(lambda: complete.signed())
        envelope = tx if isinstance(tx, bytes) else tx.envelope()
        data = self._request("POST", "/transactions",
                             params={"wait": wait, "timeout_ms": timeout_ms},
                             json={"envelope": base64.b64encode(envelope).decode()})
        return _outcome(data)

    def submit_many(self, items: Sequence[SignedTransaction | bytes], *, wait: bool = True,
                    timeout_ms: int = 30_000) -> list[Outcome]:
        """Submit a batch; each gets its own outcome (a refused one does not stop the rest)."""
        envelopes = [i if isinstance(i, bytes) else i.envelope() for i in items]
        data = self._request("POST", "/transactions/batch",
                             params={"wait": wait, "timeout_ms": timeout_ms},
                             json={"envelopes": [base64.b64encode(e).decode() for e in envelopes]})
        return [_outcome(r) for r in data["results"]]

    def call(self, wallet: Wallet, contract: str, method: str, /, *,
             cosigners: Sequence[Wallet] = (), check: bool = True, timeout_ms: int = 10_000,
             **args: Any) -> Outcome:
        """Sign, submit and wait for commit; with ``check``, a rejected call raises TransactionFailed."""
        outcome = self.submit(self.build(wallet, contract, method, args, cosigners=cosigners),
                              timeout_ms=timeout_ms)
        if check and outcome.committed and not outcome.ok:
            assert outcome.receipt is not None
            raise TransactionFailed(outcome.receipt["status"], outcome.receipt["message"],
                                    outcome.receipt)
        return outcome

    def transaction(self, tx_id: str) -> dict[str, Any]:
        """A transaction's state, call and receipt."""
        info: dict[str, Any] = self._request("GET", f"/transactions/{tx_id}")
        return info

    def verify_inclusion(self, tx_id: str) -> Inclusion:
        """Fetch a transaction's proof and check it here, trusting nothing but the header bytes.

        Checks: the header bytes decode and hash to the block hash the gateway names; the
        envelope's id is ``tx_id``; the Merkle path leads from the envelope to the header's
        ``tx_root``. Compare ``block_hash`` with one you trust (another peer, a checkpoint).
        """
        data = self._request("GET", f"/transactions/{tx_id}/proof")
        try:
            raw_header = bytes.fromhex(data["header_encoded"])
            header = BlockHeader.from_value(decode(raw_header, max_size=MAX_HEADER))
            envelope = base64.b64decode(data["envelope"], validate=True)
            path = tuple(bytes.fromhex(h) for h in data["proof"]["path"])
        except (ValueError, TypeError, KeyError) as error:
            raise ProofError("bad_proof", f"the proof does not parse: {error}") from None
        if header.hash.hex() != data["header"]["hash"]:
            raise ProofError("bad_proof", "the header bytes do not hash to the block hash given")
        if (txs.peek_id(envelope) or b"").hex() != tx_id:
            raise ProofError("bad_proof", "the envelope is not this transaction")
        proof = merkle.Proof(data["proof"]["index"], data["proof"]["size"], path)
        if not merkle.verify(envelope, proof, header.tx_root):
            raise ProofError("bad_proof", "the Merkle path does not lead to the header's tx_root")
        if data["height"] != header.height or data["proof"]["size"] != header.tx_count:
            raise ProofError("bad_proof", "the proof is for another block")
        return Inclusion(tx_id, header.height, proof.index, header.hash.hex(),
                         header.tx_root.hex(), header)

    def verify_attested(self, header: BlockHeader, *, peers: Mapping[str, bytes] | None = None,
                        quorum: int | None = None) -> Attested:
        """Check which member peers signed ``header`` (e.g. ``verify_inclusion(...).header``),
        so that no single peer need be trusted; raises ``ProofError`` unless it is final.

        ``peers`` (org → Ed25519 key) and ``quorum``: the peer keys and quorum you trust, such as
        those of a checkpoint; by default those governance held at the header's height, as this
        gateway reports them. Each signature is verified here.
        """
        data = self._request("GET", f"/blocks/{header.height}/attestations")
        try:
            keys = dict(peers) if peers is not None else {
                org: bytes.fromhex(key) for org, key in data["peers"].items()}
            needed = quorum if quorum is not None else int(data["quorum"])
            held = [(a["org"], bytes.fromhex(a["header_hash"]), bytes.fromhex(a["signature"]))
                    for a in data["attestations"]]
        except (ValueError, TypeError, KeyError) as error:
            raise ProofError("bad_attestation", f"the attestations do not parse: {error}") from None
        payload = signing_payload(header.chain_id, header.height, header.hash)
        signers = tuple(sorted({org for org, header_hash, signature in held
                                if header_hash == header.hash and org in keys
                                and verify(keys[org], payload, signature)}))
        attested = Attested(header.height, header.hash.hex(), signers, needed)
        if data["mode"] == "consortium" and not attested.final:
            raise ProofError("not_final", f"block {header.height} has {len(signers)} valid member "
                                          f"signatures of the {needed} that make it final")
        return attested

    def upload(self, data: bytes, media_type: str = "application/octet-stream") -> str:
        """Keep an image off the chain on the node; returns the SHA-256 (hex) to put on chain.

        The node keeps the image without its metadata (GPS position, device tags), so the hash
        is that of the kept bytes, not of ``data``."""
        result = self._request("POST", "/blobs", content=data, headers={"content-type": media_type})
        digest: str = result["sha256"]
        return digest

    # -- reads -----------------------------------------------------------------------------

    def query(self, contract: str, name: str, /, **args: Any) -> Any:
        """Run a contract query on the latest state (arguments as JSON-style values)."""
        plain = {k: addresses.to_text(v) if isinstance(v, bytes) and len(v) == 20
                 else v.hex() if isinstance(v, bytes) else v for k, v in args.items()}
        return self._request("POST", f"/contracts/{contract}/queries/{name}",
                             json={"args": plain})["result"]

    def public_key(self, account: str) -> bytes:
        """The account's Ed25519 public key (for a call it must co-sign), checked here against
        the address, which is the key's hash; ``Refused`` with ``unknown_key`` until the account
        has signed a committed transaction."""
        data = self._request("GET", f"/accounts/{account}/key")
        try:
            key = bytes.fromhex(data["public_key"])
        except (KeyError, TypeError, ValueError):
            raise ClientError("bad_key", "the gateway's answer holds no hex key") from None
        if addresses.address_of(key) != addresses.from_text(account):
            raise ClientError("bad_key", "the key the gateway gave is not this account's")
        return key

    def balances(self, account: str) -> dict[str, dict[str, Any]]:
        """Per currency symbol: spendable, expired, name, decimals."""
        data = self._request("GET", f"/accounts/{account}/balances")
        return {b["currency"]: b for b in data["balances"]}

    def history(self, account: str, *, before: str | None = None, limit: int = 50,
                currency: str | None = None) -> dict[str, Any]:
        """A page of the account's history, newest first; ``next_before`` pages back."""
        params: dict[str, Any] = {"limit": limit}
        if before:
            params["before"] = before
        if currency:
            params["currency"] = currency
        page: dict[str, Any] = self._request("GET", f"/accounts/{account}/history", params=params)
        return page

    def block(self, ref: int | str = "latest") -> dict[str, Any]:
        """A block by height or hash, or the latest."""
        info: dict[str, Any] = self._request("GET", f"/blocks/{ref}")
        return info

    def events(self, *, contract: str | None = None, name: str | None = None,
               account: str | None = None, from_height: int | None = None, blocks: bool = False,
               limit: int | None = None, last_event_id: str | None = None,
               timeout: float | None = None) -> Iterator[StreamEvent]:
        """Follow committed events live (SSE); resume with ``last_event_id``."""
        params = {k: v for k, v in {"contract": contract, "name": name, "account": account,
                                    "from_height": from_height, "limit": limit}.items()
                  if v is not None}
        if blocks:
            params["blocks"] = "true"
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        try:
            with connect_sse(self.http, "GET", "/events", params=params, headers=headers,
                             timeout=httpx.Timeout(timeout, connect=10.0)) as source:
                if not source.response.is_success:
                    source.response.read()
                    body = source.response.json().get("error", {})
                    raise Refused(body.get("code", "http_error"), body.get("message", ""),
                                  status=source.response.status_code)
                for sse in source.iter_sse():
                    if sse.event in ("event", "block", "lagged"):
                        yield StreamEvent(sse.id, sse.event, json.loads(sse.data))
        except httpx.HTTPError as error:
            raise Unavailable("unreachable", f"{type(error).__name__}: {error}") from None


__all__ = ["Client", "ClientError", "Inclusion", "Outcome", "PartialTransaction", "StreamEvent",
           "coerce"]
