"""Submitting signed transactions, one or a batch, and reading them back with proofs."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from civicledger.core.errors import NotFound
from civicledger.gateway import models, submission, views
from civicledger.gateway.routes import gateway_of, parse_hex32, rate_limited
from civicledger.gateway.submission import BATCH_TIMEOUT_MS, SINGLE_TIMEOUT_MS, TimeoutMs, Wait
from civicledger.node.node import find_transaction

router = APIRouter(tags=["transactions"], dependencies=[Depends(rate_limited)])

TxId = Annotated[str, Path(description="Transaction id, 64 hex digits",
                                pattern=models.HEX32_PATTERN)]

# Well-formed submissions are answered by the lean endpoints (``gateway/lean.py``) before
# they reach these routes; these serve the rest and define the documented schema. Both
# do their work in ``gateway/submission.py``.


@router.post(
    "/transactions", response_model=models.SubmitResult, status_code=202,
    responses={200: {"model": models.SubmitResult, "description": "Committed (with `wait`)"},
               409: {"model": models.ErrorBody, "description": "Submitted before (replayed)"},
               503: {"model": models.SubmitResult,
                     "description": "`failed`: admitted, then the node faulted before its block "
                                    "was durable (or busy, with an error body)"}},
)
async def submit(request: Request, body: models.SubmitRequest, wait: Wait = False,
                 timeout_ms: TimeoutMs = SINGLE_TIMEOUT_MS) -> Response:
    """Admit one signed transaction; with `wait`, answer once its block is durable.

    202 `pending`: admitted and queued. 200 `committed`: in a block, with its receipt (whose
    `status` says whether the call succeeded). Refusals answer 4xx with a code and change nothing.
    503 `failed`: admitted, but the node faulted before its block was durable; it is not
    committed here, and resubmitting the same envelope once the node is back is safe.
    """
    status, answer = await submission.submit_one(gateway_of(request), body.envelope, wait, timeout_ms)
    return Response(answer, status, media_type="application/json")


@router.post("/transactions/batch", response_model=models.BatchResult)
async def submit_batch(request: Request, body: models.BatchRequest, wait: Wait = False,
                       timeout_ms: TimeoutMs = BATCH_TIMEOUT_MS) -> Response:
    """Admit many signed transactions in order; each gets its own outcome.

    A refused envelope does not stop the others. If the pending queue is full the whole
    batch is refused with 503 `busy` and a Retry-After: nothing of it was admitted.
    """
    gateway = gateway_of(request)
    answer = await submission.submit_batch(gateway, gateway.client_of(request), body.envelopes,
                                           wait, timeout_ms)
    return Response(answer, 200, media_type="application/json")


@router.get("/transactions/{tx_id}", response_model=models.TxView)
def transaction(request: Request, tx_id: TxId) -> models.TxView:
    """A transaction's state: in a block (with the call and its receipt) or pending.

    Every transaction a block recorded answers with its block and receipt, also one the
    block refused (an `expired` one that waited too long in the queue, say): the receipt's
    `status` says what happened. Answered from the index alone; the inclusion proof is at
    `/transactions/{id}/proof`.
    """
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
    record = find_transaction(node.store, parse_hex32(tx_id, "tx_id"), proof=True)
    assert record.proof is not None
    return models.ProofView(
        tx_id=tx_id, envelope=base64.b64encode(record.envelope).decode(), height=record.height,
        index=record.index,
        proof=models.MerklePath(index=record.proof.index, size=record.proof.size,
                                path=[h.hex() for h in record.proof.path]),
        header=views.header(record.header), header_encoded=record.header.encode().hex(),
    )

