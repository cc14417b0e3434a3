"""The lean submit endpoints: the same answers as the documented routes, for every input.

Each request below is sent twice: through the gateway as served (lean endpoints
first) and straight to the FastAPI application behind them. Refusals must match
in status, code, message and headers; successes in status and body shape.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from concurrent.futures import Future

import pytest
from fastapi.testclient import TestClient

from civicledger.core.block import Event, Receipt
from civicledger.gateway import GatewayConfig, create_app, models, views
from civicledger.gateway.submission import CommitWaits
from tests.gateway.conftest import b64, error_code, spendable, transfer

JSON = {"content-type": "application/json"}


@pytest.fixture
def app(node, config, blobs):
    return create_app(node, config, blobs=blobs)


@pytest.fixture
def served(app):
    """The app as uvicorn serves it, recording what its lean endpoints hand on."""
    handed_on: list[str] = []
    fallback = app.lean.fallback

    async def recording(scope, receive, send):
        handed_on.append(scope["path"])
        await fallback(scope, receive, send)

    app.lean.fallback = recording
    with TestClient(app) as client:
        client.handed_on = handed_on
        yield client


@pytest.fixture
def routes(app):
    """The documented FastAPI routes alone."""
    with TestClient(app.full) as client:
        yield client


SINGLE = "/v1/transactions"
BATCH = "/v1/transactions/batch"
TOO_LONG = "A" * (models.MAX_ENVELOPE_TEXT + 4)

# (path, query, body bytes, headers): each refused, none admitted.
REFUSED = {
    "not json": (SINGLE, "", b"{nope", JSON),
    "not utf-8": (SINGLE, "", b'{"envelope": "\xff"}', JSON),
    "deeply nested": (SINGLE, "", b"[" * 50_000, JSON),
    "json array": (SINGLE, "", b'["AAAA"]', JSON),
    "no envelope": (SINGLE, "", b"{}", JSON),
    "envelope a number": (SINGLE, "", b'{"envelope": 5}', JSON),
    "envelope null": (SINGLE, "", b'{"envelope": null}', JSON),
    "extra field": (SINGLE, "", b'{"envelope": "AAAA", "extra": 1}', JSON),
    "envelope too long": (SINGLE, "", b'{"envelope": "%s"}' % TOO_LONG.encode(), JSON),
    "empty body": (SINGLE, "", b"", JSON),
    "no content type": (SINGLE, "", b'{"envelope": "AAAA"}', {}),
    "text content type": (SINGLE, "", b'{"envelope": "AAAA"}', {"content-type": "text/plain"}),
    "json with charset": (SINGLE, "", b'{"envelope": "@@"}',
                          {"content-type": "application/json; charset=utf-8"}),
    "wait not a flag": (SINGLE, "wait=maybe", b'{"envelope": "AAAA"}', JSON),
    "wait empty": (SINGLE, "wait=", b'{"envelope": "AAAA"}', JSON),
    "timeout negative": (SINGLE, "timeout_ms=-1", b'{"envelope": "AAAA"}', JSON),
    "timeout too long": (SINGLE, "wait=1&timeout_ms=600001", b'{"envelope": "AAAA"}', JSON),
    "timeout a fraction": (SINGLE, "timeout_ms=1.5", b'{"envelope": "AAAA"}', JSON),
    "not base64": (SINGLE, "", b'{"envelope": "@@@"}', JSON),
    "base64 of junk": (SINGLE, "wait=true", b'{"envelope": "wQ=="}', JSON),
    "base64 not ascii": (SINGLE, "", '{"envelope": "ä"}'.encode(), JSON),
    "batch empty": (BATCH, "", b'{"envelopes": []}', JSON),
    "batch not a list": (BATCH, "", b'{"envelopes": "AAAA"}', JSON),
    "batch of numbers": (BATCH, "", b'{"envelopes": ["AAAA", 1]}', JSON),
    "batch extra field": (BATCH, "", b'{"envelopes": ["AAAA"], "x": 1}', JSON),
    "batch too long for the schema": (BATCH, "", b'{"envelopes": [%s]}' % b",".join(
        [b'"AAAA"'] * (models.MAX_BATCH_ENVELOPES + 1)), JSON),
    "batch bad timeout": (BATCH, "timeout_ms=x", b'{"envelopes": ["AAAA"]}', JSON),
    "single body on batch": (BATCH, "", b'{"envelope": "AAAA"}', JSON),
    "body too large": (SINGLE, "", b'{"envelope": "%s"}' % (b"A" * 200_000), JSON),
}


def _answer(response) -> tuple[int, object, str | None]:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return response.status_code, body, response.headers.get("retry-after")


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refusals_match_the_documented_routes(served, routes, node, case):
    path, query, body, headers = REFUSED[case]
    url = f"{path}?{query}" if query else path
    lean = _answer(served.post(url, content=body, headers=headers))
    documented = _answer(routes.post(url, content=body, headers=headers))
    assert lean == documented
    assert 400 <= lean[0] < 500 and lean[1]["error"]["code"] and lean[1]["error"]["message"]
    assert node.orderer.pending() == 0 and node.head.height == 0


def test_well_formed_requests_are_served_lean_and_the_rest_handed_on(served, accounts):
    stx = transfer(accounts, 1, 2, 5)
    assert served.post("/v1/transactions?wait=true", json={"envelope": b64(stx)}).status_code == 200
    assert served.post("/v1/transactions", json={"envelope": "@@@"}).status_code == 400
    batch = {"envelopes": [b64(transfer(accounts, 3, 4, 1))]}
    assert served.post("/v1/transactions/batch?wait=1", json=batch).status_code == 200
    assert served.handed_on == []
    assert served.post("/v1/transactions", json={"envelope": 5}).status_code == 422
    assert served.post("/v1/transactions?wait=maybe", json={"envelope": "AAAA"}).status_code == 422
    assert served.handed_on == ["/v1/transactions", "/v1/transactions"]
    assert served.get("/v1/transactions/" + stx.id.hex()).json()["state"] == "committed"


def _same_shape(body: dict, model: type[models.Model]) -> None:
    """``body`` is exactly what the route's response model would write."""
    assert model.model_validate(body).model_dump(mode="json") == body


@pytest.mark.parametrize("door", ["served", "routes"])
def test_answers_have_the_documented_shape(request, accounts, node, door):
    api = request.getfixturevalue(door)
    first = transfer(accounts, 1, 2, 7)
    committed = api.post("/v1/transactions?wait=true", json={"envelope": b64(first)})
    failed = api.post("/v1/transactions?wait=true", json={"envelope": b64(transfer(accounts, 3, 2, 10**6))})
    pending = api.post("/v1/transactions", json={"envelope": b64(transfer(accounts, 4, 2, 1))})
    assert (committed.status_code, failed.status_code, pending.status_code) == (200, 200, 202)
    for response in (committed, failed, pending):
        assert response.headers["content-type"] == "application/json"
        _same_shape(response.json(), models.SubmitResult)
    assert committed.json()["receipt"]["status"] == "ok"
    assert committed.json()["receipt"]["events"][0]["name"]
    assert failed.json()["state"] == "committed"
    assert failed.json()["receipt"]["status"] == "insufficient_funds"
    assert pending.json() == {"tx_id": pending.json()["tx_id"], "state": "pending", "height": None,
                              "index": None, "receipt": None, "error": None}
    batch = api.post("/v1/transactions/batch?wait=true", json={"envelopes": [
        b64(transfer(accounts, 5, 2, 1)), "@@@", b64(first)]})
    assert batch.status_code == 200
    _same_shape(batch.json(), models.BatchResult)
    states = [(r["state"], (r["error"] or {}).get("code")) for r in batch.json()["results"]]
    assert states == [("committed", None), ("refused", "malformed"), ("refused", "replayed")]


def test_refusals_on_the_lean_path_are_counted(served, accounts):
    stx = transfer(accounts, 1, 2, 5)
    forged = stx.envelope().replace(stx.signatures[0], bytes(64))
    refused = served.post("/v1/transactions", json={"envelope": base64.b64encode(forged).decode()})
    assert (refused.status_code, error_code(refused)) == (400, "bad_signature")
    assert served.handed_on == []
    assert 'civic_refused_requests_total{code="bad_signature"} 1.0' in served.get("/metrics").text
    assert spendable(served, accounts, 1) == 1000


def test_a_rate_limited_client_is_charged_once_by_either_door(node, accounts):
    """Two tokens: a malformed request (handed on) and a batch of one spend one each."""
    with TestClient(create_app(node, GatewayConfig(rate_per_s=0.001, burst=2))) as api:
        assert api.post("/v1/transactions", json={"envelope": 5}).status_code == 422
        batch = {"envelopes": [b64(transfer(accounts, 1, 2, 1))]}
        assert api.post("/v1/transactions/batch", json=batch).status_code == 200
        limited = api.post("/v1/transactions", json={"envelope": b64(transfer(accounts, 1, 2, 2))})
        assert (limited.status_code, error_code(limited)) == (429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1


def test_receipt_values_are_the_receipt_views():
    receipt = Receipt(bytes(range(32)), "ok", "", (
        Event("token", "Transferred", {"to": bytes(20), "amount": 5, "memo": "안녕", "raw": b"\x01"},
              ()),), {"balance": 7, "tags": [b"\xff", "x"]})
    assert views.receipt_value(receipt) == views.receipt(receipt).model_dump(mode="json")


def test_commit_waits_wake_for_completions_from_another_thread():
    waits = CommitWaits()
    futures: list[Future] = [Future() for _ in range(50)]

    async def run():
        settling = [asyncio.ensure_future(waits.settle([f], 10)) for f in futures]
        both = asyncio.ensure_future(waits.settle(futures[:2], 10))
        await asyncio.sleep(0.01)
        threading.Thread(target=lambda: [f.set_result(i) for i, f in enumerate(futures)]).start()
        await asyncio.wait_for(asyncio.gather(*settling, both), 5)

    asyncio.run(run())


def test_commit_waits_give_up_at_the_timeout_and_cancel_nothing():
    waits = CommitWaits()
    future: Future = Future()

    async def run():
        await waits.settle([future], 0.05)
        await waits.settle([future], 0)

    asyncio.run(run())
    assert not future.done() and not future.cancelled()
    future.set_result(1)
    asyncio.run(waits.settle([future], 10))  # done already: no wait at all


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(node, accounts):
    config = GatewayConfig(rate_per_s=0.001, burst=1, trust_forwarded=True)
    with TestClient(create_app(node, config)) as api:
        def submit(client: str) -> int:
            envelope = b64(transfer(accounts, 1, 2, 1))
            return api.post("/v1/transactions", json={"envelope": envelope},
                            headers={"x-forwarded-for": f"{client}, 10.0.0.1"}).status_code

        assert [submit("198.51.100.7"), submit("203.0.113.9")] == [202, 202]
        assert submit("198.51.100.7") == 429


def test_a_faulted_node_answers_503_on_the_lean_path(store, registry, accounts):
    from civicledger.node.node import Node
    from civicledger.node.ordering import SoloOrderer

    node = Node(store, registry, SoloOrderer())
    node.fault = RuntimeError("disk gone")
    with TestClient(create_app(node)) as api:
        response = api.post("/v1/transactions", json={"envelope": b64(transfer(accounts, 1, 2, 1))})
        assert (response.status_code, error_code(response)) == (503, "node_fault")
        batch = api.post("/v1/transactions/batch", json={"envelopes": [b64(transfer(accounts, 1, 2, 1))]})
        assert (batch.status_code, error_code(batch)) == (503, "node_fault")
