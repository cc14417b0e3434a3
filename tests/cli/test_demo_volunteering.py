"""The demo's week of volunteering runs on the demo genesis, every step accepted."""

from __future__ import annotations

from civicledger.cli import demo, demo_volunteering
from civicledger.contracts.catalog import CONTRACTS
from civicledger.contracts.testing import START_MS, Sandbox
from civicledger.core.address import address_of, from_text, to_text
from civicledger.core.crypto import KeyPair

WEEK_MS = 7 * demo_volunteering.DAY_MS


def demo_box() -> tuple[Sandbox, dict[str, bytes]]:
    keys = {name: address_of(KeyPair.generate().public_key) for name in demo.key_names()}
    genesis = demo.genesis_document({n: to_text(a) for n, a in keys.items()}, "demo", START_MS)
    return Sandbox(CONTRACTS, genesis=genesis.contracts, time_ms=genesis.time_ms), keys


def test_the_demo_week_runs_and_the_reports_add_up() -> None:
    box, keys = demo_box()
    steps = demo_volunteering.steps(keys.__getitem__, START_MS)
    assert [s.at_ms for s in steps] == sorted(s.at_ms for s in steps)
    assert steps[0].at_ms >= 0 and steps[-1].at_ms < WEEK_MS
    for step in steps:
        box.time_ms = START_MS + step.at_ms - 1  # the sandbox's next block is one ms later
        receipt = box.call(keys[step.signer], step.contract, step.method,
                           cosigners=[keys[c] for c in step.cosigners], **step.args)
        assert receipt.ok, (step, receipt)

    nowon = box.query("volunteering", "district_report", district="nowon")
    assert nowon == {
        "district": "nowon", "currency": "NW", "hours": 6, "requests": 2, "activities": 2,
        "minutes": 360, "minted": 180 * 700 // 60 + 180 * 650 // 60, "spent": 450,
        "donated": 1_000, "exchanged_out": 1_000, "exchanged_in": 0,
        "outstanding": 2_100 + 2_100 + 1_950 - 1_000,  # genesis NW + minted - exchanged
    }
    gangseo = box.query("volunteering", "district_report", district="gangseo")
    assert (gangseo["minted"], gangseo["exchanged_in"], gangseo["spent"]) == (2_250, 1_000, 1_800)
    assert box.query("volunteering", "org_report", org="welfare")["filled"] == 1
    assert box.query("volunteering", "org_report", org="school")["partly_filled"] == 0

    def spendable(currency: str, name: str) -> int:
        return box.query("token", "balance", currency=currency, account=keys[name])["spendable"]

    assert spendable("NW", "cafe-admin") == 450 and spendable("GS", "bakery-admin") == 1_800
    assert spendable("NW", "seoyeon") == 700 and spendable("GS", "minji") == 200
    profile = box.query("volunteering", "profile", volunteer=keys["dohyun"])
    assert (profile["hours"], profile["rating_centi"]) == (3, 500)
    open_now = [r["request"] for r in box.query("volunteering", "recommend", volunteer=keys["minji"])]
    assert open_now == [3, 4], "next week's requests are open to her when the node starts"


def test_the_demo_genesis_folds_the_volunteering_roles_into_the_orgs() -> None:
    _, keys = demo_box()
    genesis = demo.genesis_document({n: to_text(a) for n, a in keys.items()}, "demo", START_MS)
    orgs = {org["id"]: org for org in genesis.contracts["governance"]["orgs"]}
    welfare_admin = to_text(keys["welfare-admin"])
    assert orgs["welfare"]["roles"][welfare_admin] == ["operator", "manager"]
    assert [from_text(a) for a in orgs["nowon"]["admins"]] == [keys["nowon-admin"]]
    assert len(orgs) == len(demo.ORGS)


def test_merge_genesis() -> None:
    base = {"a": {"orgs": [{"id": "x", "roles": {"k": ["r1"]}}], "n": 1}, "b": [1, 2]}
    extra = {"a": {"orgs": [{"id": "x", "roles": {"k": ["r2", "r1"], "j": ["r3"]}}, {"id": "y"}]},
             "b": [2, 3], "c": {}}
    assert demo.merge_genesis(base, extra) == {
        "a": {"orgs": [{"id": "x", "roles": {"k": ["r1", "r2"], "j": ["r3"]}}, {"id": "y"}], "n": 1},
        "b": [1, 2, 3], "c": {}}
    assert base["a"]["orgs"][0]["roles"] == {"k": ["r1"]}  # the inputs are left as they were
