"""The block page checks member peers' signatures in Chromium, against governance's keys, on a
consortium of real processes; the browser's signing payload is the Python one, byte for byte."""

from __future__ import annotations

import json

import pytest

from civicledger.core.attestation import signing_payload
from tests.node.conftest import Accounts
from tests.node.consortium import wait_for
from tests.node.live_cluster import Load, running
from tests.web.conftest import screenshot

pytestmark = pytest.mark.slow


def test_the_block_page_shows_which_members_signed_and_checks_it_here(tmp_path, page):
    with running(tmp_path, Accounts(6)) as cluster:
        load = Load(cluster, batch=5).start()
        wait_for(lambda: len(load.acknowledged) >= 20, 60, "a few commits")
        load.stop()
        height = max(load.acknowledged.values())
        url = cluster.url("gangseo")
        wait_for(lambda: cluster.health("gangseo")["final_height"] >= height, 30, "finality at gangseo")
        page.goto(f"{url}/blocks/{height}?lang=en")
        section = page.locator("#attestations")
        page.wait_for_function("() => document.getElementById('attestations').dataset.final")
        assert section.get_attribute("data-final") == "true"
        signers = section.get_attribute("data-signers").split(",")
        assert len(signers) >= 2 and set(signers) <= {"city", "nowon", "gangseo"}
        assert "Final:" in page.locator("#attest-result").inner_text()
        screenshot(page, "block-attestations")

        payload = page.evaluate("""async ([chain, h, hash]) => {
            const attest = await import("/static/attest.js");
            const civic = await import("/static/civic.js");
            return civic.toHex(await attest.signingPayload(chain, h, hash));
        }""", [cluster.genesis.chain_id, height, "ab" * 32])
        assert payload == signing_payload(cluster.genesis.chain_id, height, bytes.fromhex("ab" * 32)).hex()

        # A server that swapped in other keys would be caught by the browser, not believed.
        page.route("**/v1/blocks/*/attestations", lambda route: route.fulfill(
            status=200, content_type="application/json", body=_with_wrong_keys(route)))
        page.goto(f"{url}/blocks/{height}?lang=en")
        page.wait_for_function("() => document.getElementById('attestations').dataset.final")
        assert section.get_attribute("data-final") == "false"
        assert "Not final" in page.locator("#attest-result").inner_text()


def _with_wrong_keys(route) -> str:
    answer = route.fetch().json()
    answer["peers"] = {org: "11" * 32 for org in answer["peers"]}
    return json.dumps(answer)


def test_a_solo_node_says_its_blocks_are_final_once_committed(page, server):
    page.goto(f"{server.url}/blocks/1?lang=en")
    result = page.locator("#attest-result")
    page.wait_for_function("() => !document.getElementById('attest-result').classList.contains('pending')")
    assert "single-node chain" in result.inner_text()
