"""Submitting transactions over HTTP: commits, batches, and every refusal changing nothing."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from civicledger.core.address import to_text
from civicledger.core.tx import MAX_TTL_MS, Transaction
from civicledger.gateway import GatewayConfig, create_app
from civicledger.node.node import Node
from civicledger.node.ordering import SoloOrderer, wall_clock_ms
from tests.gateway.conftest import b64, error_code, spendable, transfer
from tests.node.conftest import CHAIN


def test_a_transfer_commits_and_reads_back(api, accounts):
    stx = transfer(accounts, 1, 2, 30)
    response = api.post("/v1/transactions?wait=true", json={"envelope": b64(stx)})
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "committed" and body["tx_id"] == stx.id.hex()
    assert body["receipt"]["status"] == "ok"
    assert body["receipt"]["events"][0]["data"]["recipient"] == to_text(accounts.address(2))
    assert spendable(api, accounts, 1) == 970 and spendable(api, accounts, 2) == 1030
    shown = api.get(f"/v1/transactions/{stx.id.hex()}").json()
    assert shown["state"] == "committed" and shown["height"] == body["height"]
    assert shown["call"]["method"] == "transfer" and shown["call"]["args"]["amount"] == 30
    assert shown["call"]["signer"] == to_text(accounts.address(1))


def test_without_wait_the_answer_is_pending_then_committed(api, accounts, node):
    stx = transfer(accounts, 1, 2, 1)
    response = api.post("/v1/transactions", json={"envelope": b64(stx)})
    assert response.status_code == 202 and response.json()["state"] == "pending"
    node.submit(transfer(accounts, 3, 4, 1).envelope()).result(timeout=10)  # a later block
    assert api.get(f"/v1/transactions/{stx.id.hex()}").json()["state"] == "committed"


def test_a_failed_call_is_committed_with_its_code(api, accounts):
    stx = transfer(accounts, 1, 2, 5_000)
    body = api.post("/v1/transactions?wait=true", json={"envelope": b64(stx)}).json()
    assert body["state"] == "committed"
    assert body["receipt"]["status"] == "insufficient_funds"
    assert spendable(api, accounts, 1) == 1000


def test_a_batch_gives_each_transaction_its_own_outcome(api, accounts):
    good = [transfer(accounts, 1, 2, 10), transfer(accounts, 3, 4, 10)]
    forged = transfer(accounts, 1, 2, 10)
    forged_env = base64.b64encode(
        forged.envelope().replace(forged.signatures[0], bytes(64))).decode()
    envelopes = [b64(good[0]), "not base64!", forged_env, b64(good[1]), b64(good[0])]
    response = api.post("/v1/transactions/batch?wait=true", json={"envelopes": envelopes})
    assert response.status_code == 200
    body = response.json()
    states = [(r["state"], (r["error"] or {}).get("code")) for r in body["results"]]
    assert states == [("committed", None), ("refused", "malformed"), ("refused", "bad_signature"),
                      ("committed", None), ("refused", "replayed")]
    assert body["accepted"] == 2 and body["refused"] == 3
    assert body["results"][2]["tx_id"] == forged.id.hex()
    assert spendable(api, accounts, 1) == 990 and spendable(api, accounts, 4) == 1010


def _signed(accounts, **changes):
    base = dict(chain_id=CHAIN, contract="token", method="transfer",
                args={"currency": "CIV", "to": accounts.address(2), "amount": 1},
                signer=accounts.keys[1].public_key, nonce=b"n" * 16,
                expires=wall_clock_ms() + 60_000)
    base.update(changes)
    return Transaction(**base).sign(accounts.keys[1])


REFUSALS = {
    "wrong_chain": (400, lambda a: _signed(a, chain_id="other-chain")),
    "expired": (400, lambda a: _signed(a, expires=wall_clock_ms() - 1)),
    "expiry_too_far": (400, lambda a: _signed(a, expires=wall_clock_ms() + MAX_TTL_MS + 60_000)),
    "unknown_contract": (422, lambda a: _signed(a, contract="nope")),
    "unknown_method": (422, lambda a: _signed(a, method="steal")),
    "invalid_argument": (422, lambda a: _signed(a, args={"currency": "CIV", "to": b"x", "amount": 1})),
    "forbidden_character": (422, lambda a: _signed(a, args={
        "currency": "CIV", "to": a.address(2), "amount": 1, "memo": "refund \u202e0001"})),
}


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_stateless_faults_are_refused_before_ordering(api, accounts, node, code):
    status, make = REFUSALS[code]
    height = node.head.height
    response = api.post("/v1/transactions?wait=true", json={"envelope": b64(make(accounts))})
    assert (response.status_code, error_code(response)) == (status, code)
    assert response.json()["error"]["message"]
    assert node.head.height == height and spendable(api, accounts, 1) == 1000


@pytest.mark.parametrize(("envelope", "status", "code"), [
    ("@@@", 400, "malformed"),
    (base64.b64encode(b"\xc1").decode(), 400, "malformed"),
    (base64.b64encode(b"\x92\xc4\x01a\x90").decode(), 400, "malformed"),
])
def test_unreadable_envelopes_are_refused(api, envelope, status, code):
    response = api.post("/v1/transactions", json={"envelope": envelope})
    assert (response.status_code, error_code(response)) == (status, code)


def test_a_forged_signature_is_refused(api, accounts):
    stx = transfer(accounts, 1, 2, 10)
    forged = stx.envelope().replace(stx.signatures[0], bytes(64))
    response = api.post("/v1/transactions", json={"envelope": base64.b64encode(forged).decode()})
    assert (response.status_code, error_code(response)) == (400, "bad_signature")
    assert spendable(api, accounts, 1) == 1000


def test_a_replay_is_refused(api, accounts):
    stx = transfer(accounts, 1, 2, 10)
    assert api.post("/v1/transactions?wait=true", json={"envelope": b64(stx)}).status_code == 200
    again = api.post("/v1/transactions?wait=true", json={"envelope": b64(stx)})
    assert (again.status_code, error_code(again)) == (409, "replayed")
    assert spendable(api, accounts, 1) == 990


@pytest.mark.parametrize(("body", "code"), [
    ({}, "invalid_request"),
    ({"envelope": 5}, "invalid_request"),
    ({"envelope": "AAAA", "extra": 1}, "invalid_request"),
    ({"envelopes": []}, "invalid_request"),
])
def test_malformed_bodies_are_refused(api, body, code):
    path = "/v1/transactions/batch" if "envelopes" in body else "/v1/transactions"
    response = api.post(path, json=body)
    assert (response.status_code, error_code(response)) == (422, code)


UNPARSEABLE = {
    "truncated": b'{"envelope": "AAAA',
    "random bytes": bytes(range(256)) * 4,
    "invalid utf-8": b'{"envelope": "\xff\xfe"}',
    "too deep": b"[" * 1_100 + b"]" * 1_100,
    "deeper than 64": b'{"envelope": ' + b"[" * 70 + b"]" * 70 + b"}",
    "5,000-digit integer": b'{"args": {"amount": ' + b"9" * 5_000 + b"}}",
    "NaN": b'{"envelope": NaN}',
    "two values": b'{"envelope": "AAAA"} {}',
}
ROUTES = {
    "lean submit": ("/v1/transactions", "application/json"),
    "FastAPI submit": ("/v1/transactions", "application/json; charset=utf-8"),
    "batch": ("/v1/transactions/batch", "application/json"),
    "query": ("/v1/contracts/token/queries/supply", "application/json"),
    "JSON subtype": ("/v1/contracts/token/queries/supply", "application/problem+json"),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("fault", UNPARSEABLE)
def test_every_unparseable_body_gets_one_code_on_every_route(api, node, route, fault):
    path, kind = ROUTES[route]
    headers = {"content-type": kind} if kind else {}
    response = api.post(path, content=UNPARSEABLE[fault], headers=headers)
    assert (response.status_code, error_code(response)) == (400, "malformed_json"), response.text
    assert response.json()["error"]["message"]
    assert node.head.height == 0


@pytest.mark.parametrize("route", ROUTES)
def test_a_repeated_key_is_refused(api, route):
    path, kind = ROUTES[route]
    body = b'{"envelope": "AAAA", "envelope": "BBBB", "args": {"currency": "CIV"}}'
    response = api.post(path, content=body, headers={"content-type": kind} if kind else {})
    assert (response.status_code, error_code(response)) == (400, "duplicate_key")
    assert "'envelope'" in response.json()["error"]["message"]


def test_unparseable_bodies_are_counted_in_the_metrics(api):
    api.post("/v1/transactions", content=b"{nope", headers={"content-type": "application/json"})
    api.post("/v1/contracts/token/queries/supply", content=b"{nope",
             headers={"content-type": "application/json"})
    assert 'civic_refused_requests_total{code="malformed_json"} 2.0' in api.get("/metrics").text


def test_an_oversized_body_is_refused_unread(api, node):
    response = api.post("/v1/transactions", content=b"x" * (200 * 1024),
                        headers={"content-type": "application/json"})
    assert (response.status_code, error_code(response)) == (413, "body_too_large")
    assert node.head.height == 0


def test_an_oversized_chunked_body_is_refused(api):
    def chunks():
        for _ in range(300):
            yield b"x" * 1024

    response = api.post("/v1/transactions", content=chunks(), headers={"content-type": "application/json"})
    assert (response.status_code, error_code(response)) == (413, "body_too_large")


def test_a_batch_over_the_limit_is_refused(node, accounts):
    config = GatewayConfig(max_batch=2)
    with TestClient(create_app(node, config)) as api:
        envelopes = [b64(transfer(accounts, 1, 2, 1)) for _ in range(3)]
        response = api.post("/v1/transactions/batch", json={"envelopes": envelopes})
        assert (response.status_code, error_code(response)) == (413, "batch_too_large")
        assert spendable(api, accounts, 1) == 1000


def test_a_full_queue_answers_busy_with_retry_after(store, registry, accounts):
    node = Node(store, registry, SoloOrderer(max_pending=1))  # not started: nothing drains
    with TestClient(create_app(node)) as api:
        first = api.post("/v1/transactions", json={"envelope": b64(transfer(accounts, 1, 2, 1))})
        assert first.status_code == 202
        busy = api.post("/v1/transactions", json={"envelope": b64(transfer(accounts, 1, 2, 1))})
        assert (busy.status_code, error_code(busy)) == (503, "busy")
        assert busy.headers["retry-after"] == "1"
        batch = api.post("/v1/transactions/batch",
                         json={"envelopes": [b64(transfer(accounts, 3, 2, 1))]})
        assert (batch.status_code, error_code(batch)) == (503, "busy")
        assert node.orderer.pending() == 1
        ready = api.get("/v1/ready")
        assert ready.status_code == 503 and not ready.json()["ready"]


def test_clients_are_rate_limited(node, accounts):
    with TestClient(create_app(node, GatewayConfig(rate_per_s=0.001, burst=3))) as api:
        assert api.get("/v1/chain").status_code == 200
        envelopes = [b64(transfer(accounts, 1, 2, 1)) for _ in range(2)]
        assert api.post("/v1/transactions/batch", json={"envelopes": envelopes}).status_code == 200
        limited = api.post("/v1/transactions", json={"envelope": b64(transfer(accounts, 1, 2, 1))})
        assert (limited.status_code, error_code(limited)) == (429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1
        metrics = api.get("/metrics").text
        assert 'civic_refused_requests_total{code="rate_limited"} 1.0' in metrics


def test_unknown_transactions_and_bad_ids(api):
    unknown = api.get("/v1/transactions/" + "ab" * 32)
    assert (unknown.status_code, error_code(unknown)) == (404, "unknown_transaction")
    bad = api.get("/v1/transactions/xyz")
    assert (bad.status_code, error_code(bad)) == (422, "invalid_argument")
    assert error_code(api.get("/v1/transactions/" + "ab" * 32 + "/proof")) == "not_found"
