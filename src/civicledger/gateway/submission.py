"""Submitting envelopes and answering for them: the work of ``POST /v1/transactions[/batch]``.

Both doors to these routes use it: the lean ASGI endpoints (``lean.py``) that
serve well-formed requests, and the documented FastAPI routes that serve the
rest (and define the OpenAPI schema). Answers are JSON bytes built straight
from plain values in the shapes of ``models.SubmitResult`` and
``models.BatchResult`` (a test holds them to those models), so the busiest
route builds no pydantic model per request.

Waiting for commit (``wait``) never cancels the node's futures. The commit
thread resolves a whole block's futures at once; ``CommitWaits`` carries
those completions to the event loop with one wake-up per burst instead of one
per transaction.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Query

from civicledger.core import tx as txs
from civicledger.core.errors import Busy, CivicError, EncodingError
from civicledger.gateway import models, views
from civicledger.gateway.admission import Outcome
from civicledger.gateway.errors import ApiError
from civicledger.node.node import Committed

if TYPE_CHECKING:
    from civicledger.gateway.app import Gateway

Wait = Annotated[bool, Query(description="Answer only once committed (or the timeout passes)")]
TimeoutMs = Annotated[int, Query(ge=0, le=600_000, description="How long to wait, in ms")]
SINGLE_TIMEOUT_MS = 10_000
"""Default ``timeout_ms`` of the single route."""
BATCH_TIMEOUT_MS = 30_000
"""Default ``timeout_ms`` of the batch route."""

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""Compact UTF-8 JSON, as FastAPI (pydantic) writes it."""


def decode_envelope(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise EncodingError("the envelope is not standard base64") from None


def result_value(tx_id: bytes | None, outcome: Outcome) -> dict[str, Any]:
    """One envelope's outcome as the JSON value of a ``models.SubmitResult``."""
    value: dict[str, Any] = {"tx_id": tx_id.hex() if tx_id else None, "state": "pending",
                             "height": None, "index": None, "receipt": None, "error": None}
    if isinstance(outcome, CivicError):
        value["state"] = models.TxState.REFUSED.value
        value["error"] = {"code": outcome.code, "message": outcome.message}
    elif outcome.done():
        error = outcome.exception()
        if error is None:
            committed = outcome.result()
            value["state"] = models.TxState.COMMITTED.value
            value["height"] = committed.height
            value["index"] = committed.index
            value["receipt"] = views.receipt_value(committed.receipt)
        else:  # admitted, then the node faulted: not a refusal, nothing was decided
            value["state"] = models.TxState.FAILED.value
            value["error"] = {"code": error.code if isinstance(error, CivicError) else "node_fault",
                              "message": error.message if isinstance(error, CivicError)
                              else str(error)}
    return value


async def submit_one(gateway: Gateway, text: str, wait: bool, timeout_ms: int) -> tuple[int, bytes]:
    """Admit one base64 envelope: (status, JSON body); a refusal raises its ``CivicError``.

    202 with ``pending``, or 200 with ``committed`` when it committed within the wait, or
    503 with ``failed`` (and the fault in ``error``) when the node faulted before its block
    was durable: the node-fault answer, whose body is also a ``SubmitResult``.
    """
    envelope = decode_envelope(text)
    [outcome] = await gateway.admission.submit([envelope])
    if isinstance(outcome, CivicError):
        raise outcome
    tx_id = txs.peek_id(envelope)
    assert tx_id is not None  # it was admitted, so it decodes
    gateway.metrics.admitted([tx_id])
    if wait:
        await gateway.waits.settle([outcome], min(timeout_ms, gateway.config.max_wait_ms) / 1000)
    value = result_value(tx_id, outcome)
    status = {"committed": 200, "failed": 503}.get(value["state"], 202)
    return status, _dumps(value).encode()


async def submit_batch(gateway: Gateway, client: str, texts: Sequence[str], wait: bool,
                       timeout_ms: int) -> bytes:
    """Admit envelopes in order (the client has paid for one): the ``BatchResult`` JSON body.

    Each envelope gets its own outcome; a full queue refuses the whole batch with ``Busy``.
    """
    if len(texts) > gateway.config.max_batch:
        raise ApiError(413, f"a batch holds at most {gateway.config.max_batch} transactions",
                       code="batch_too_large")
    gateway.charge(client, len(texts) - 1)
    envelopes: list[bytes] = []
    decoded: list[CivicError | None] = []
    for text in texts:
        try:
            envelopes.append(decode_envelope(text))
            decoded.append(None)
        except CivicError as error:
            envelopes.append(b"")
            decoded.append(error)
    outcomes: list[Outcome] = await gateway.admission.submit(envelopes)
    if any(isinstance(o, Busy) for o in outcomes):
        raise Busy("the pending queue is full; retry the batch shortly")
    outcomes = [d or o for d, o in zip(decoded, outcomes, strict=True)]
    ids = [txs.peek_id(e) for e in envelopes]
    admitted = [f for f in outcomes if isinstance(f, Future)]
    gateway.metrics.admitted(i for i, o in zip(ids, outcomes, strict=True) if isinstance(o, Future))
    if wait:
        await gateway.waits.settle(admitted, min(timeout_ms, gateway.config.max_wait_ms) / 1000)
    results = [result_value(i, o) for i, o in zip(ids, outcomes, strict=True)]
    return _dumps({"results": results, "accepted": len(admitted),
                   "refused": len(results) - len(admitted)}).encode()


class CommitWaits:
    """Waiting on the event loop for futures that the node resolves on its commit thread.

    A block resolves up to thousands of futures in a row; each completion is queued
    here and the loop is woken once for all that arrived meanwhile.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        """Per event loop, completions not yet delivered; a loop is listed while woken."""

    async def settle(self, futures: Sequence[Future[Committed]], timeout_s: float) -> None:
        """Return once every future is done or ``timeout_s`` has passed; never cancels them."""
        pending = [f for f in futures if not f.done()]
        if not pending or timeout_s <= 0:
            return
        loop = asyncio.get_running_loop()
        all_done: asyncio.Future[None] = loop.create_future()
        if len(pending) == 1:
            pending[0].add_done_callback(lambda _: self._wake(loop, all_done))
        else:
            remaining = len(pending)
            count = threading.Lock()

            def one_done(_: Future[Committed]) -> None:
                nonlocal remaining
                with count:
                    remaining -= 1
                    if remaining:
                        return
                self._wake(loop, all_done)

            for future in pending:
                future.add_done_callback(one_done)
        timer = loop.call_later(timeout_s, _finish, all_done)
        try:
            await all_done
        finally:
            timer.cancel()

    def _wake(self, loop: asyncio.AbstractEventLoop, done: asyncio.Future[None]) -> None:
        with self._lock:
            ready = self._ready.get(loop)
            if ready is not None:  # a wake-up is on its way and will take this one too
                ready.append(done)
                return
            self._ready[loop] = [done]
        try:
            loop.call_soon_threadsafe(self._flush, loop)
        except RuntimeError:  # the loop closed while we waited: nobody is left to tell
            with self._lock:
                self._ready.pop(loop, None)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            ready = self._ready.pop(loop)
        for done in ready:
            _finish(done)


def _finish(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)
