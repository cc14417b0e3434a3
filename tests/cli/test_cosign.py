"""civic tx sign / civic tx cosign: a co-signed call handed over in a file, through a running
node's gateway and on a stopped node's data directory; each bad hand-off refused with its code."""

from __future__ import annotations

import base64
import json
import shutil
import signal
import time

from click.testing import CliRunner

from civicledger.cli.main import cli
from civicledger.core import encoding
from civicledger.core.tx import MAX_TX_SIZE
from tests.cli.conftest import start
from tests.cli.test_dev import civic


def unpadded(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


TRANSFER = ("token", "transfer", "--arg", "currency=CIV", "--arg", "to=junho", "--arg", "amount=3")


def test_a_co_signed_transfer_handed_over_in_a_file_through_the_gateway(demo_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    other = tmp_path / "other"  # another demo chain, with its own id
    assert CliRunner().invoke(cli, ["--data", str(other), "init", "--demo"]).exit_code == 0
    process, _ = start(data, tmp_path / "up.log")
    try:
        handoff = tmp_path / "handoff.txt"
        signed = civic(data, "tx", "sign", *TRANSFER, "--key", "minji", "--cosigner", "junho",
                       "--out", str(handoff))
        assert signed.returncode == 0, signed.stderr
        view = json.loads(signed.stdout)
        assert view["awaiting"] == [json.loads(civic(data, "keys", "show", "junho").stdout)["address"]]
        assert not view["complete"]
        first = handoff.read_text()

        stranger = civic(data, "tx", "cosign", str(handoff), "--key", "seoyeon", "--submit")
        assert stranger.returncode == 1 and "error [not_cosigner]" in stranger.stderr
        assert handoff.read_text() == first  # a refusal changes nothing

        elsewhere = civic(other, "tx", "cosign", str(handoff), "--key", "junho")
        assert elsewhere.returncode == 1 and "error [wrong_chain]" in elsewhere.stderr

        sent = civic(data, "tx", "sign", *TRANSFER[:-1], "amount=4", "--key", "minji",
                     "--cosigner", "junho", "--out", "-")
        [other_body, _] = encoding.decode(unpadded(sent.stdout), max_size=MAX_TX_SIZE)
        [_, first_signatures] = encoding.decode(unpadded(first), max_size=MAX_TX_SIZE)
        tampered = tmp_path / "tampered.txt"  # the amount changed after minji signed
        tampered.write_text(base64.urlsafe_b64encode(
            encoding.encode([other_body, list(first_signatures)])).decode())
        forged = civic(data, "tx", "cosign", str(tampered), "--key", "junho")
        assert forged.returncode == 1 and "error [bad_signature]" in forged.stderr

        brief = tmp_path / "brief.txt"
        assert civic(data, "tx", "sign", *TRANSFER, "--key", "minji", "--cosigner", "junho",
                     "--ttl", "1ms", "--out", str(brief)).returncode == 0
        time.sleep(0.05)
        late = civic(data, "tx", "cosign", str(brief), "--key", "junho", "--submit")
        assert late.returncode == 1 and "error [expired]" in late.stderr

        done = civic(data, "tx", "cosign", str(handoff), "--key", "junho", "--submit")
        assert done.returncode == 0, done.stderr
        receipt = json.loads(done.stdout)
        assert receipt["status"] == "ok" and receipt["tx_id"] == view["tx_id"]
        shown = json.loads(civic(data, "tx", "show", receipt["tx_id"]).stdout)
        assert len(shown["signers"]) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0


def test_co_signing_on_a_stopped_node_commits_on_its_data_directory(demo_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    handoff = tmp_path / "handoff.txt"
    assert civic(data, "tx", "sign", *TRANSFER, "--key", "minji", "--cosigner", "junho",
                 "--out", str(handoff)).returncode == 0
    signed = civic(data, "tx", "cosign", str(handoff), "--key", "junho")
    assert signed.returncode == 0 and json.loads(signed.stdout)["complete"] is True
    assert civic(data, "tx", "cosign", str(handoff), "--key", "junho").returncode == 1  # once
    done = civic(data, "tx", "cosign", str(handoff), "--submit")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "ok"
    assert civic(data, "tx", "cosign", str(handoff)).returncode == 2  # neither --key nor --submit
