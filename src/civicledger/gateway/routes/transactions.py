"""Submitting signed transactions, one or a batch, and reading them back with proofs."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from civicledger.core import tx as txs
from civicledger.core.errors import Busy, CivicError, EncodingError, NotFound
from civicledger.gateway import models, views
from civicledger.gateway.errors import ApiError
from civicledger.gateway.routes import charge, gateway_of, parse_hex32, rate_limited
from civicledger.node.node import Committed

router = APIRouter(tags=["transactions"], dependencies=[Depends(rate_limited)])

TxId = Annotated[str, Path(description="Transaction id, 64 hex digits")]
Wait = Annotated[bool, Query(description="Answer only once committed (or the timeout passes)")]
TimeoutMs = Annotated[int, Query(ge=0, le=600_000, description="How long to wait, in ms")]


def _envelope(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise EncodingError("the envelope is not standard base64") from None


async def _settle(futures: Sequence[Future[Committed]], timeout_s: float) -> None:
    """Wait until every future is done or the timeout passes; never cancels them."""
    if not futures:
        return
    loop = asyncio.get_running_loop()
    all_done = loop.create_future()
    remaining = len(futures)
    lock = threading.Lock()

    def one_done(_: Future[Committed]) -> None:
        nonlocal remaining
        with lock:
            remaining -= 1
            last = remaining == 0
        if last:
            with contextlib.suppress(RuntimeError):  # the loop closed while we waited
                loop.call_soon_threadsafe(lambda: all_done.done() or all_done.set_result(None))

    for future in futures:
        future.add_done_callback(one_done)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(all_done), timeout_s)


def _result(tx_id: bytes | None, outcome: Future[Committed] | CivicError) -> models.SubmitResult:
    ident = tx_id.hex() if tx_id else None
    if isinstance(outcome, CivicError):
        return models.SubmitResult(tx_id=ident, state=models.TxState.REFUSED,
                                   error=models.ErrorDetail(code=outcome.code, message=outcome.message))
    if outcome.done() and outcome.exception() is None:
        committed = outcome.result()
        return models.SubmitResult(tx_id=ident, state=models.TxState.COMMITTED,
                                   height=committed.height, index=committed.index,
                                   receipt=views.receipt(committed.receipt))
    if outcome.done():
        error = outcome.exception()
        code = error.code if isinstance(error, CivicError) else "node_fault"
        return models.SubmitResult(tx_id=ident, state=models.TxState.REFUSED,
                                   error=models.ErrorDetail(code=code, message=str(error)))
    return models.SubmitResult(tx_id=ident, state=models.TxState.PENDING)


async def _admit(request: Request, envelopes: list[bytes]) -> list[Future[Committed] | CivicError]:
    return await gateway_of(request).admission.submit(envelopes)


@router.post(
    "/transactions", response_model=models.SubmitResult, status_code=202,
    responses={200: {"model": models.SubmitResult, "description": "Committed (with `wait`)"},
               409: {"model": models.ErrorBody, "description": "Submitted before (replayed)"}},
)
async def submit(request: Request, response: Response, body: models.SubmitRequest,
                 wait: Wait = False, timeout_ms: TimeoutMs = 10_000) -> models.SubmitResult:
    """Admit one signed transaction; with `wait`, answer once its block is durable.

    202 `pending`: admitted and queued. 200 `committed`: in a block, with its receipt (whose
    `status` says whether the call succeeded). Refusals answer 4xx with a code and change nothing.
    """
    gateway = gateway_of(request)
    envelope = _envelope(body.envelope)
    [outcome] = await _admit(request, [envelope])
    if isinstance(outcome, CivicError):
        raise outcome
    tx_id = txs.peek_id(envelope)
    assert tx_id is not None  # it was admitted, so it decodes
    gateway.metrics.admitted([tx_id])
    if wait:
        await _settle([outcome], min(timeout_ms, gateway.config.max_wait_ms) / 1000)
    result = _result(tx_id, outcome)
    if result.state is models.TxState.COMMITTED:
        response.status_code = 200
    return result


@router.post("/transactions/batch", response_model=models.BatchResult)
async def submit_batch(request: Request, body: models.BatchRequest,
                       wait: Wait = False, timeout_ms: TimeoutMs = 30_000) -> models.BatchResult:
    """Admit many signed transactions in order; each gets its own outcome.

    A refused envelope does not stop the others. If the pending queue is full the whole
    batch is refused with 503 `busy` and a Retry-After: nothing of it was admitted.
    """
    gateway = gateway_of(request)
    if len(body.envelopes) > gateway.config.max_batch:
        raise ApiError(413, f"a batch holds at most {gateway.config.max_batch} transactions",
                       code="batch_too_large")
    charge(request, len(body.envelopes) - 1)
    envelopes: list[bytes] = []
    decoded: list[CivicError | None] = []
    for text in body.envelopes:
        try:
            envelopes.append(_envelope(text))
            decoded.append(None)
        except CivicError as error:
            envelopes.append(b"")
            decoded.append(error)
    outcomes = await _admit(request, envelopes)
    if any(isinstance(o, Busy) for o in outcomes):
        raise Busy("the pending queue is full; retry the batch shortly")
    outcomes = [d or o for d, o in zip(decoded, outcomes, strict=True)]
    ids = [txs.peek_id(e) for e in envelopes]
    admitted = [f for f in outcomes if isinstance(f, Future)]
    gateway.metrics.admitted(i for i, o in zip(ids, outcomes, strict=True) if isinstance(o, Future))
    if wait:
        await _settle(admitted, min(timeout_ms, gateway.config.max_wait_ms) / 1000)
    results = [_result(i, o) for i, o in zip(ids, outcomes, strict=True)]
    return models.BatchResult(results=results, accepted=len(admitted),
                              refused=len(results) - len(admitted))


@router.get("/transactions/{tx_id}", response_model=models.TxView)
def transaction(request: Request, tx_id: TxId) -> models.TxView:
    """A transaction's state: committed (with the call and its receipt) or pending."""
    node = gateway_of(request).node
    ident = parse_hex32(tx_id, "tx_id")
    try:
        record = node.transaction(ident)
    except NotFound:
        if node.is_pending(ident):
            return models.TxView(tx_id=tx_id, state=models.TxState.PENDING)
        raise NotFound(f"no transaction {tx_id} is committed or pending",
                       code="unknown_transaction") from None
    return models.TxView(
        tx_id=tx_id, state=models.TxState.COMMITTED, height=record.height, index=record.index,
        time_ms=record.header.time_ms, block_hash=record.header.hash.hex(),
        call=views.call(record.tx), receipt=views.receipt(record.receipt),
    )


@router.get("/transactions/{tx_id}/proof", response_model=models.ProofView)
def proof(request: Request, tx_id: TxId) -> models.ProofView:
    """The inclusion proof of a committed transaction and the header it proves against.

    Check it with nothing but the header: hash `header_encoded` to get the block hash,
    hash the envelope as a leaf, walk `proof.path` to the root, compare with `tx_root`.
    """
    node = gateway_of(request).node
    record = node.transaction(parse_hex32(tx_id, "tx_id"))
    return models.ProofView(
        tx_id=tx_id, envelope=base64.b64encode(record.envelope).decode(), height=record.height,
        index=record.index,
        proof=models.MerklePath(index=record.proof.index, size=record.proof.size,
                                path=[h.hex() for h in record.proof.path]),
        header=views.header(record.header), header_encoded=record.header.encode().hex(),
    )

