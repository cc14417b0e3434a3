"""Reading the ledger over HTTP: blocks, accounts, contracts, governance, operations."""

from __future__ import annotations

import base64

from civicledger.core import merkle
from civicledger.core.address import to_text
from civicledger.core.block import BlockHeader
from civicledger.core.encoding import decode
from civicledger.gateway import models
from tests.gateway.conftest import b64, error_code, transfer


def test_a_solo_node_has_no_attestations_and_its_blocks_are_final(api, node):
    answer = api.get("/v1/blocks/0/attestations").json()
    assert answer["mode"] == "solo" and answer["final"] is True
    assert answer["attestations"] == [] and answer["header_hash"] == node.head.hash.hex()
    missing = api.get("/v1/blocks/99/attestations")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_block"


def _commit(api, stx) -> dict:
    body = api.post("/v1/transactions?wait=true", json={"envelope": b64(stx)}).json()
    assert body["state"] == "committed"
    return body


def test_chain_health_and_readiness(api, node):
    chain = api.get("/v1/chain").json()
    assert chain["chain_id"] == node.chain_id and chain["head"]["height"] == 0
    assert chain["contracts"][:2] == ["governance", "token"]
    assert api.get("/v1/health").json() == {"status": "ok", "height": 0, "final_height": 0,
                                            "consortium": None}
    ready = api.get("/v1/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_blocks_by_height_hash_and_latest(api, accounts):
    committed = _commit(api, transfer(accounts, 1, 2, 3))
    latest = api.get("/v1/blocks/latest").json()
    assert latest["header"]["height"] == committed["height"]
    assert latest["transactions"][0] == {
        "tx_id": committed["tx_id"], "contract": "token", "method": "transfer",
        "signer": to_text(accounts.address(1)), "status": "ok",
    }
    by_hash = api.get(f"/v1/blocks/{latest['header']['hash']}").json()
    assert by_hash == api.get(f"/v1/blocks/{committed['height']}").json() == latest
    recent = api.get("/v1/blocks?limit=5").json()["blocks"]
    assert [b["height"] for b in recent] == list(range(committed["height"], -1, -1))
    assert [b["height"] for b in api.get("/v1/blocks?before=1").json()["blocks"]] == [0]


def test_unknown_and_malformed_block_refs(api):
    assert error_code(api.get("/v1/blocks/99")) == "unknown_block"
    assert api.get("/v1/blocks/99").status_code == 404
    assert error_code(api.get("/v1/blocks/" + "00" * 32)) == "unknown_block"
    assert error_code(api.get("/v1/blocks/zz")) == "invalid_argument"
    assert error_code(api.get("/v1/blocks/" + "zz" * 32)) == "invalid_argument"
    assert error_code(api.get("/v1/blocks?limit=0")) == "invalid_request"


def test_a_proof_checks_out_against_the_header_alone(api, accounts):
    committed = _commit(api, transfer(accounts, 1, 2, 3))
    proof = api.get(f"/v1/transactions/{committed['tx_id']}/proof").json()
    header = BlockHeader.from_value(decode(bytes.fromhex(proof["header_encoded"]), max_size=4096))
    assert header.hash.hex() == proof["header"]["hash"]
    path = merkle.Proof(proof["proof"]["index"], proof["proof"]["size"],
                        tuple(bytes.fromhex(h) for h in proof["proof"]["path"]))
    envelope = base64.b64decode(proof["envelope"])
    assert merkle.verify(envelope, path, header.tx_root)
    assert not merkle.verify(envelope + b"x", path, header.tx_root)


def test_balances_and_history_pages(api, accounts):
    for amount in (1, 2, 3):
        _commit(api, transfer(accounts, 1, 2, amount))
    me = to_text(accounts.address(2))
    balances = api.get(f"/v1/accounts/{me}/balances").json()["balances"]
    assert balances == [{"currency": "CIV", "name": "Civic", "spendable": 1006, "expired": 0,
                         "decimals": 0}]
    first = api.get(f"/v1/accounts/{me}/history?limit=2").json()
    amounts = [e["events"][0]["data"]["amount"] for e in first["entries"]]
    assert amounts == [3, 2] and first["next_before"]
    rest = api.get(f"/v1/accounts/{me}/history?limit=2&before={first['next_before']}").json()
    assert [e["events"][0]["data"]["amount"] for e in rest["entries"]] == [1]
    assert rest["next_before"] is None
    assert api.get(f"/v1/accounts/{me}/history?currency=NW").json()["entries"] == []
    assert len(api.get(f"/v1/accounts/{me}/history?currency=CIV").json()["entries"]) == 3


def test_bad_account_queries_are_refused(api, accounts):
    address = to_text(accounts.address(2))
    typo = address[:-1] + ("q" if address[-1] != "q" else "p")
    assert error_code(api.get(f"/v1/accounts/{typo}/balances")) == "invalid_address"
    assert error_code(api.get(f"/v1/accounts/{address}/history?before=x")) == "invalid_request"
    assert error_code(api.get(f"/v1/accounts/{address}/history?limit=501")) == "invalid_request"


def test_roles_and_orgs(api, accounts):
    admin = to_text(accounts.address(0))
    assert api.get(f"/v1/accounts/{admin}/roles").json() == [["issuer", "city"]]
    orgs = api.get("/v1/orgs").json()
    assert orgs == [{"id": "city", "name": "City", "admins": [admin], "active": True}]
    assert api.get("/v1/orgs/city").json()["admins"] == [admin]
    assert (api.get("/v1/orgs/nowhere").status_code, error_code(api.get("/v1/orgs/nowhere"))) == (
        404, "not_found")
    assert error_code(api.get("/v1/proposals/7")) == "not_found"


def test_contracts_describe_themselves(api):
    token = api.get("/v1/contracts/token").json()
    transfer_method = next(m for m in token["methods"] if m["name"] == "transfer")
    assert transfer_method["args"]["required"] == ["currency", "to", "amount"]
    assert transfer_method["args"]["properties"]["to"]["format"] == "civ1-address"
    assert "Transferred" in [e["name"] for e in token["events"]]
    assert token["account"].startswith("civ1")
    names = [c["name"] for c in api.get("/v1/contracts").json()]
    assert names[:2] == ["governance", "token"]
    assert error_code(api.get("/v1/contracts/nope")) == "unknown_contract"


def test_any_query_by_name(api, accounts):
    me = to_text(accounts.address(1))
    result = api.post("/v1/contracts/token/queries/balance",
                      json={"args": {"currency": "CIV", "account": me}}).json()["result"]
    assert result["spendable"] == 1000
    assert api.post("/v1/contracts/token/queries/supply",
                    json={"args": {"currency": "CIV"}}).json()["result"] == 6000
    refusals = {
        "unknown_method": api.post("/v1/contracts/token/queries/steal", json={}),
        "unknown_contract": api.post("/v1/contracts/nope/queries/x", json={}),
        "invalid_argument": api.post("/v1/contracts/token/queries/balance",
                                     json={"args": {"currency": "CIV", "account": "civ1xyz"}}),
        "unknown_currency": api.post("/v1/contracts/token/queries/supply",
                                     json={"args": {"currency": "XX"}}),
    }
    assert {code: error_code(r) for code, r in refusals.items()} == {c: c for c in refusals}
    fraction = api.post("/v1/contracts/token/queries/supply", json={"args": {"currency": 1.5}})
    assert error_code(fraction) == "invalid_argument"


def test_metrics_count_commits_and_refusals(api, accounts, node):
    _commit(api, transfer(accounts, 1, 2, 3))
    api.get("/v1/blocks/99")
    text = api.get("/metrics").text
    assert "civic_block_height 1.0" in text
    assert 'civic_committed_transactions_total{status="ok"} 1.0' in text
    assert "civic_commit_latency_seconds_count 1.0" in text
    assert 'civic_refused_requests_total{code="unknown_block"} 1.0' in text
    assert "civic_pending_transactions 0.0" in text
    assert f"civic_signature_workers {float(node.verifier.worker_count)}" in text


def test_unknown_routes_answer_in_the_error_shape(api):
    response = api.get("/v1/nothing")
    assert (response.status_code, error_code(response)) == (404, "no_route")
    assert error_code(api.delete("/v1/chain")) == "method_not_allowed"


def test_openapi_documents_every_route(api):
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/v1/transactions", "/v1/transactions/batch", "/v1/transactions/{tx_id}/proof",
                 "/v1/blocks/{ref}", "/v1/accounts/{account}/history", "/v1/events",
                 "/v1/contracts/{contract}/queries/{query}", "/v1/ready", "/metrics"):
        assert path in paths
    assert api.get("/docs").status_code == 200


def test_an_accounts_key_is_known_once_it_has_signed(api, accounts):
    sender, receiver = to_text(accounts.address(1)), to_text(accounts.address(2))
    assert error_code(api.get(f"/v1/accounts/{sender}/key")) == "unknown_key"
    _commit(api, transfer(accounts, 1, 2, 3))
    assert api.get(f"/v1/accounts/{sender}/key").json() == {
        "account": sender, "public_key": accounts.keys[1].public_key.hex()}
    unknown = api.get(f"/v1/accounts/{receiver}/key")
    assert (unknown.status_code, error_code(unknown)) == (404, "unknown_key"), "receiving is not signing"
    typo = sender[:-1] + ("q" if sender[-1] != "q" else "p")
    assert error_code(api.get(f"/v1/accounts/{typo}/key")) == "invalid_address"


def test_path_parameters_declare_their_patterns_in_openapi(api, accounts):
    paths = api.get("/openapi.json").json()["paths"]
    declared = {}
    for operations in paths.values():
        for operation in operations.values():
            for parameter in operation.get("parameters", ()):
                if parameter["in"] == "path" and parameter["name"] in ("account", "tx_id", "sha256",
                                                                       "ref"):
                    declared.setdefault(parameter["name"], set()).add(
                        parameter["schema"].get("pattern"))
    assert declared == {"account": {models.ACCOUNT_PATTERN}, "tx_id": {models.HEX32_PATTERN},
                        "sha256": {models.HEX32_PATTERN}, "ref": {models.BLOCK_REF_PATTERN}}
    # Off the pattern: refused with the code the route gives a value it cannot parse.
    address = to_text(accounts.address(1))
    for path, code in ((f"/v1/accounts/{address}x/balances", "invalid_address"),
                       (f"/v1/accounts/{address.upper()}/balances", None),
                       ("/v1/transactions/" + "g" * 64, "invalid_argument"),
                       ("/v1/blobs/" + "0" * 63, "invalid_argument"),
                       ("/v1/blocks/-1", "invalid_argument"),
                       ("/v1/blocks/" + "1" * 20, "invalid_argument")):
        response = api.get(path)
        if code is None:
            assert response.status_code == 200, (path, response.text)
        else:
            assert (response.status_code, error_code(response)) == (422, code), path
