"""The incentive services' demo week runs on the demo genesis, every step succeeding."""

from __future__ import annotations

import pytest

from civicledger.cli import demo, demo_incentives
from civicledger.contracts.catalog import CONTRACTS
from civicledger.contracts.framework import contract_account
from civicledger.contracts.testing import START_MS, Sandbox
from civicledger.core.address import address_of, to_text
from civicledger.core.crypto import KeyPair

WEEK = 7 * 24 * 3_600_000


def run_week(start_ms: int) -> tuple[Sandbox, dict[str, bytes]]:
    keys = {name: address_of(KeyPair.generate().public_key) for name in demo.key_names()}
    genesis = demo.genesis_document({n: to_text(a) for n, a in keys.items()}, "demo", start_ms)
    contracts = dict(genesis.contracts)
    contracts.update(demo_incentives.genesis(keys.__getitem__))
    box = Sandbox(CONTRACTS, contracts, time_ms=start_ms)
    steps = demo_incentives.steps(keys.__getitem__, start_ms)
    assert [s.at_ms for s in steps] == sorted(s.at_ms for s in steps)
    assert steps[0].at_ms >= 0 and steps[-1].at_ms < WEEK
    for step in steps:
        box.time_ms = max(box.time_ms, start_ms + step.at_ms - 1)  # the call adds 1 ms
        receipt = box.call(keys[step.signer], step.contract, step.method,
                           cosigners=[keys[c] for c in step.cosigners], **step.args)
        assert receipt.ok, (step, receipt)
    return box, keys


@pytest.mark.parametrize("offset_ms", [0, 7 * 3_600_000 + 1_234])
def test_every_step_of_the_week_succeeds(offset_ms: int) -> None:
    box, keys = run_week(START_MS + offset_ms)
    air = box.query("incentives", "service_flows", service="air")
    assert air["rewards_paid"] == 4 * 3 * 3 * 20 and air["fees_collected"] == 3 * 3 * 3 * 5
    assert air["held"] == 0  # every provider claimed its share
    roads = box.query("incentives", "service", service="roads")
    assert roads["flows"]["rewards_paid"] == 2 * 300 and roads["flows"]["fees_collected"] == 50
    parking = box.query("incentives", "service_flows", service="parking")
    assert parking["fees_collected"] == 300 + 200
    assert parking["held"] == 160, "dohyun's overstay on junho's spot awaits Seoul's decision"
    assert parking["refunded"] == 160  # the cancelled booking
    [dispute] = box.query("parking", "open_disputes", service="parking")
    assert dispute["booking"] == 6 and dispute["driver"] == keys["dohyun"]
    assert dispute["dispute"]["by"] == keys["junho"] and dispute["dispute"]["reason"] == "overstay"
    top = box.query("incentives", "top_providers", service="roads")
    # dohyun alone reported the sinkhole; minji reported the pothole before junho
    assert top == [{"account": keys["dohyun"], "earned": 300},
                   {"account": keys["minji"], "earned": 225},
                   {"account": keys["junho"], "earned": 75}]
    hazards = [box.query("hazards", "hazard", service="roads", hazard=h)["status"]
               for h in (1, 2, 3)]
    assert hazards == ["resolved", "repairing", "rejected"]
    # junho earned from data and a report, and spent on parking: one statement
    statement = box.query("incentives", "statement", account=keys["junho"])
    kinds = {line["service"]: line for line in statement["services"]}
    assert kinds["air"]["earned"] > 0 and kinds["roads"]["earned"] > 0
    assert kinds["parking"]["spent"] == 200 and kinds["parking"]["earned"] == 0
    # the registry holds exactly what its services record
    pool = box.query("token", "balance", currency="CIV",
                     account=contract_account("incentives"))["spendable"]
    services = box.query("incentives", "services_list")
    assert pool == sum(s["flows"]["budget"] + s["flows"]["held"] for s in services)
    assert box.query("incentives", "treasury")["account"] == contract_account("governance")


def test_create_returns_the_genesis_document_of_the_keys_it_saved(tmp_path) -> None:
    from civicledger.cli.workspace import Workspace

    workspace = Workspace(tmp_path)
    genesis, _ = demo.create(workspace, "demo", START_MS)
    saved = {name: workspace.key_info(name)["address"] for name in demo.key_names()}
    assert genesis == demo.genesis_document(saved, "demo", START_MS)
    assert "airlab-admin" in saved
