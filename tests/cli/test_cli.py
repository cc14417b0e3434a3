"""The civic command line, end to end on a demo ledger."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from civicledger.cli.main import cli


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVIC_PASSPHRASE", "demo")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, ["--data", str(tmp_path / "data"), *args])

    assert invoke("init", "--demo").exit_code == 0
    return invoke


def test_demo_balances_transfer_show_and_verify(run):
    listed = run("keys", "list")
    assert "minji\tciv1" in listed.output
    before = json.loads(run("balance", "minji").output)
    assert before["balances"]["CIV"]["spendable"] > 1_500  # earned and spent in the demo week
    assert before["balances"]["NW"]["spendable"] > 0
    junho_before = json.loads(run("balance", "junho", "--currency", "CIV").output)["balances"]["CIV"][
        "spendable"]

    sent = run("tx", "token", "transfer", "--key", "minji",
               "--arg", "currency=CIV", "--arg", "to=junho", "--arg", "amount=1500")
    assert sent.exit_code == 0, sent.output
    receipt = json.loads(sent.output)
    assert receipt["status"] == "ok"
    assert json.loads(run("balance", "junho", "--currency", "CIV").output)["balances"]["CIV"][
        "spendable"] == junho_before + 1_500

    shown = run("tx", "show", receipt["tx_id"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["proof"]["verified"] is True

    latest = json.loads(run("block", "latest", "--txs").output)
    assert latest["height"] == receipt["height"]
    assert run("block", latest["hash"]).exit_code == 0

    history = json.loads(run("history", "junho").output)
    assert history[0]["tx_id"] == receipt["tx_id"]
    assert history[0]["events"][0]["data"]["amount"] == 1500
    assert run("history", "junho", "--before", "x").exit_code == 2
    older = json.loads(run("history", "junho", "--before", f"{receipt['height']}:0").output)
    assert older and all(entry["height"] < receipt["height"] for entry in older)

    verified = run("verify")  # the demo week's blocks included
    assert verified.exit_code == 0, verified.output
    assert f"ok: {receipt['height'] + 1} blocks" in verified.output  # genesis counts too


def test_refusals_have_codes_and_exit_codes(run):
    seeded = json.loads(run("block", "latest").output)["height"]  # the demo week
    short = run("tx", "token", "transfer", "--key", "minji",
                "--arg", "currency=CIV", "--arg", "to=junho", "--arg", "amount=999999")
    assert short.exit_code == 1
    assert json.loads(short.output)["status"] == "insufficient_funds"

    assert run("init", "--demo").exit_code == 4  # already initialised
    missing = run("balance", "nobody")
    assert missing.exit_code == 3 and "not_found" in missing.output
    typo = run("balance", "civ1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq")
    assert typo.exit_code == 2
    unknown = run("tx", "token", "steal", "--key", "minji")
    assert unknown.exit_code == 1 and "unknown_method" in unknown.output
    bad_arg = run("tx", "token", "transfer", "--key", "minji", "--arg", "amount=lots")
    assert bad_arg.exit_code == 2
    assert run("tx", "show", "00" * 32).exit_code == 3
    # only the refused transfer reached a block (with a failed receipt); nothing else did
    assert json.loads(run("block", "latest").output)["height"] == seeded + 1


def test_wrong_passphrase_is_refused(run, monkeypatch):
    monkeypatch.setenv("CIVIC_PASSPHRASE", "wrong")
    result = run("tx", "token", "transfer", "--key", "minji",
                 "--arg", "currency=CIV", "--arg", "to=junho", "--arg", "amount=1")
    assert result.exit_code == 5
    assert "wrong_passphrase" in result.output


def test_help_lists_commands():
    result = CliRunner().invoke(cli, ["--help"])
    for command in ("init", "up", "keys", "tx", "balance", "history", "block", "verify", "bench"):
        assert command in result.output


def test_the_demo_seeds_a_living_week_of_services(run):
    def query(contract: str, name: str, *pairs: str):
        done = run("query", contract, name, *(a for p in pairs for a in ("--arg", p)))
        assert done.exit_code == 0, done.output
        return json.loads(done.output)

    nowon = query("volunteering", "district_report", "district=nowon")
    assert nowon["minted"] > 0 and nowon["spent"] > 0 and nowon["donated"] > 0
    gangseo = query("volunteering", "district_report", "district=gangseo")
    assert gangseo["minted"] > 0
    for service in ("air", "roads", "parking"):
        flows = query("incentives", "service_flows", f"service={service}")
        assert flows["rewards_paid"] > 0 or flows["fees_collected"] > 0, flows
    statement = query("incentives", "statement", "account=junho")
    earned_in = {s["service"] for s in statement["services"] if s["earned"]}
    assert {"air", "roads"} <= earned_in  # what junho earned reporting pays for parking
    assert statement["totals"]["CIV"]["spent"] > 0
