"""The SDK against a real node process: transfer, read back, follow events, verify a proof."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading

import pytest

from civicledger.cli.demo import DEMO_PASSPHRASE
from civicledger.cli.workspace import Workspace
from civicledger.sdk import Client, ClientError, ProofError, Refused, TransactionFailed, Wallet
from tests.node.photos import leaks, tagged_png
from tests.sdk.conftest import CIVIC


@pytest.fixture(scope="module")
def client(server):
    with Client(server.url) as client:
        yield client


@pytest.fixture(scope="module")
def minji(server) -> Wallet:
    return Wallet.load(Workspace(server.data).key_path("minji"), DEMO_PASSPHRASE)


def test_transfer_read_back_follow_and_prove(client, minji):
    newcomer = Wallet.create()
    seen: list = []
    start = client.chain()["head"]["height"] + 1

    def follow():
        seen.extend(client.events(account=newcomer.address_text, from_height=start, limit=1,
                                  timeout=30))

    follower = threading.Thread(target=follow)
    follower.start()
    outcome = client.call(minji, "token", "transfer", currency="CIV", to=newcomer.address_text,
                          amount=25, memo="환영합니다")
    assert outcome.ok and outcome.height is not None
    assert client.balances(newcomer.address_text)["CIV"]["spendable"] == 25
    assert client.public_key(minji.address_text) == minji.public_key  # checked against the address
    with pytest.raises(Refused) as unknown:
        client.public_key(newcomer.address_text)  # it has only received
    assert unknown.value.code == "unknown_key"
    assert client.query("token", "balance", currency="CIV",
                        account=newcomer.address)["spendable"] == 25
    history = client.history(newcomer.address_text)
    assert history["entries"][0]["tx_id"] == outcome.tx_id
    follower.join(timeout=30)
    assert [e.data["tx_id"] for e in seen] == [outcome.tx_id]
    assert seen[0].data["data"]["memo"] == "환영합니다"
    inclusion = client.verify_inclusion(outcome.tx_id)
    assert inclusion.height == outcome.height
    assert inclusion.block_hash == client.block(outcome.height)["header"]["hash"]


def test_a_rejected_call_raises_with_its_receipt(client):
    broke = Wallet.create()
    with pytest.raises(TransactionFailed) as failed:
        client.call(broke, "token", "transfer", currency="CIV", to=Wallet.create().address_text,
                    amount=1)
    assert failed.value.code == "insufficient_funds"
    assert failed.value.receipt["status"] == "insufficient_funds"


def test_refusals_keep_their_codes(client, minji):
    stx = client.build(minji, "token", "transfer",
                       {"currency": "CIV", "to": Wallet.create().address_text, "amount": 1})
    assert client.submit(stx).ok
    with pytest.raises(Refused) as replay:
        client.submit(stx)
    assert (replay.value.code, replay.value.status) == ("replayed", 409)
    with pytest.raises(Refused) as unknown:
        client.build(minji, "token", "steal", {})
    assert unknown.value.code == "unknown_method"


def test_a_batch_commits_every_transaction(client, minji):
    friends = [Wallet.create() for _ in range(5)]
    signed = [client.build(minji, "token", "transfer",
                           {"currency": "CIV", "to": f.address_text, "amount": 2}) for f in friends]
    outcomes = client.submit_many(signed)
    assert all(o.ok for o in outcomes)
    assert {client.balances(f.address_text)["CIV"]["spendable"] for f in friends} == {2}


def test_a_tampered_proof_is_caught(client, minji, monkeypatch):
    outcome = client.call(minji, "token", "transfer", currency="CIV",
                          to=Wallet.create().address_text, amount=1)
    real = client._request

    def tampered(method, path, **kwargs):
        data = real(method, path, **kwargs)
        if path.endswith("/proof"):
            data["header"]["hash"] = "00" * 32
        return data

    monkeypatch.setattr(client, "_request", tampered)
    with pytest.raises(ProofError):
        client.verify_inclusion(outcome.tx_id)


def test_a_key_that_is_not_the_accounts_is_caught(client, minji, monkeypatch):
    real = client._request
    other = Wallet.create().public_key.hex()
    answers = iter([{"account": minji.address_text, "public_key": other},
                    {"account": minji.address_text, "public_key": "not hex"}])
    monkeypatch.setattr(client, "_request", lambda method, path, **kw: next(answers)
                        if path.endswith("/key") else real(method, path, **kw))
    for _ in range(2):
        with pytest.raises(ClientError) as caught:
            client.public_key(minji.address_text)
        assert caught.value.code == "bad_key"


def test_the_cli_sends_through_the_running_node(server, client):
    newcomer = Wallet.create()
    env = {**os.environ, "CIVIC_PASSPHRASE": DEMO_PASSPHRASE}
    done = subprocess.run(
        [CIVIC, "--data", str(server.data), "tx", "token", "transfer", "--key", "junho",
         "--arg", "currency=CIV", "--arg", f"to={newcomer.address_text}", "--arg", "amount=4"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "ok"
    assert client.balances(newcomer.address_text)["CIV"]["spendable"] == 4


def test_a_citizen_reports_a_hazard_with_a_photo_kept_off_chain(client, minji):
    photo = tagged_png()
    digest = client.upload(photo, "image/png")
    outcome = client.call(minji, "hazards", "report", service="roads", category="sinkhole",
                          cell="0412-1089", photo=digest)
    assert outcome.ok
    hazard = client.query("hazards", "hazard", service="roads", hazard=outcome.receipt["result"]["hazard"])
    assert hazard["status"] == "reported"
    call = client.transaction(outcome.tx_id)["call"]
    assert call["args"]["photo"] == digest  # the chain holds the hash, the node the bytes
    kept = client.http.get(f"/blobs/{digest}").content
    assert hashlib.sha256(kept).hexdigest() == digest and leaks(kept) == []  # its tags removed
