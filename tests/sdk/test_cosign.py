"""Co-signing across two programs through a real gateway: one signs and hands over text, the
other checks it, co-signs and submits; every bad hand-off is refused with its code."""

from __future__ import annotations

import os

import pytest

from civicledger.cli.demo import DEMO_PASSPHRASE
from civicledger.cli.workspace import Workspace
from civicledger.core import encoding
from civicledger.core.tx import SIGNATURE_TAG, Transaction
from civicledger.sdk import Client, PartialTransaction, Refused, Wallet


@pytest.fixture(scope="module")
def wallets(server) -> dict[str, Wallet]:
    ws = Workspace(server.data)
    return {n: Wallet.load(ws.key_path(n), DEMO_PASSPHRASE) for n in ("minji", "junho", "seoyeon")}


def refusal(action) -> str:
    with pytest.raises(Refused) as refused:
        action()
    return refused.value.code


def test_one_program_signs_another_co_signs_and_submits(server, wallets):
    minji, junho = wallets["minji"], wallets["junho"]
    with Client(server.url) as first:
        partial = first.start_cosigned(minji, "token", "transfer",
                                       {"currency": "CIV", "to": junho.address_text, "amount": 7},
                                       cosigners=[junho.address_text])
        assert isinstance(partial, PartialTransaction) and partial.awaiting == (junho.public_key,)
        handed = partial.text()
        assert refusal(lambda: first.submit(partial)) == "awaiting_cosigners"
    with Client(server.url) as second:  # another program, another machine: only the text travels
        checked = second.read_partial(handed)
        assert (checked.tx.contract, checked.tx.method, checked.tx.args["amount"]) == (
            "token", "transfer", 7)
        assert refusal(lambda: second.cosign(handed, wallets["seoyeon"])) == "not_cosigner"
        assert refusal(lambda: second.cosign(handed, minji)) == "already_signed"
        done = second.cosign(handed, junho)
        outcome = second.submit(done)
        assert outcome.ok, outcome
        signers = second.transaction(outcome.tx_id)["call"]
        assert signers["cosigners"] == [junho.address_text]
        assert refusal(lambda: second.submit(done)) == "replayed"


def test_a_bad_hand_off_is_refused_with_a_code(server, wallets):
    minji, junho = wallets["minji"], wallets["junho"]
    with Client(server.url) as client:
        args = {"currency": "CIV", "to": junho.address, "amount": 1}

        def partial(chain: str, expires: int) -> str:
            return Transaction(chain, "token", "transfer", args, minji.public_key, os.urandom(16),
                               expires, (junho.public_key,)).start(minji.keypair).text()

        now = client.now_ms()
        assert refusal(lambda: client.read_partial(partial("another-chain", now + 60_000))) == \
            "wrong_chain"
        assert refusal(lambda: client.read_partial(partial(client.chain_id, now - 1))) == "expired"
        good = client.read_partial(partial(client.chain_id, now + 60_000))
        forged = encoding.encode([good.body, [junho.keypair.sign(SIGNATURE_TAG + good.id)]])
        assert refusal(lambda: client.cosign(forged, junho)) == "bad_signature"
        assert refusal(lambda: client.read_partial("not a partial")) == "malformed"
