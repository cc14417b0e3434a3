"""The volunteering pages in-process, on the demo city with a clock the tests move.

The fixture builds the demo chain (``civic up --demo``'s genesis and week) with keys the test
holds, behind the gateway app, and a node whose block time is a fake clock: a request can be
posted, applied for, selected, checked in, an hour can pass, and the work be confirmed, all
without waiting.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from civicledger.cli import demo
from civicledger.contracts.catalog import registry as default_registry
from civicledger.contracts.volunteering.records import RequestStatus
from civicledger.core.address import address_of, to_text
from civicledger.core.crypto import KeyPair
from civicledger.core.tx import Transaction
from civicledger.gateway import GatewayConfig, create_app
from civicledger.node.blobs import BlobStore
from civicledger.node.node import Node, initialise
from civicledger.node.ordering import SoloOrderer, wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore
from civicledger.web import volunteer
from civicledger.web.i18n import catalogue
from civicledger.web.render import seoul_time

CHAIN = "volunteer-pages"
MINUTE = 60_000
HOUR = 60 * MINUTE


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@dataclass
class City:
    api: TestClient
    keys: dict[str, KeyPair]
    clock: Clock

    def address(self, name: str) -> str:
        return to_text(address_of(self.keys[name].public_key))

    def raw(self, name: str) -> bytes:
        return address_of(self.keys[name].public_key)

    def call(self, signer: str, method: str, cosigners: tuple[str, ...] = (), *,
             contract: str = "volunteering", **args: Any) -> dict:
        """Sign and submit a volunteering call; the committed transaction view."""
        keys = [self.keys[signer], *(self.keys[c] for c in cosigners)]
        stx = Transaction(CHAIN, contract, method, args, keys[0].public_key, os.urandom(16),
                          self.clock.now + 10 * MINUTE, tuple(k.public_key for k in keys[1:])).sign(*keys)
        response = self.api.post("/v1/transactions?wait=true",
                                 json={"envelope": base64.b64encode(stx.envelope()).decode()})
        assert response.status_code == 200, response.text
        return response.json()

    def ok(self, signer: str, method: str, cosigners: tuple[str, ...] = (), *,
           contract: str = "volunteering", **args: Any) -> Any:
        result = self.call(signer, method, cosigners, contract=contract, **args)
        assert result["receipt"]["status"] == "ok", result["receipt"]
        return result["receipt"]["result"]

    def page(self, path: str, account: str | None = None, lang: str = "en") -> str:
        sep = "&" if "?" in path else "?"
        query = f"{sep}lang={lang}" + (f"&account={self.address(account)}" if account else "")
        response = self.api.get(path + query)
        assert response.status_code == 200, (path, response.status_code)
        return response.text


@pytest.fixture
def city(tmp_path) -> Iterator[City]:
    keys = {name: KeyPair.generate() for name in demo.key_names()}
    addresses = {name: to_text(address_of(k.public_key)) for name, k in keys.items()}
    genesis = demo.genesis_document(addresses, CHAIN, wall_clock_ms() - demo.DEMO_WEEK_MS)
    registry = default_registry()
    store = SqliteStore(tmp_path / "ledger.db")
    initialise(store, registry, genesis)
    demo.seed_week(store, keys, genesis)
    clock = Clock(wall_clock_ms())
    node = Node(store, registry, SoloOrderer(max_wait_ms=2, clock=clock), clock=clock).start()
    try:
        with TestClient(create_app(node, GatewayConfig(), blobs=BlobStore(tmp_path / "blobs"))) as api:
            yield City(api, keys, clock)
    finally:
        node.stop()
        store.close()


def post_lunch(city: City, **changes: Any) -> int:
    now = city.clock.now
    args = {"org": "welfare", "task": "공원 청소 Park clean-up", "place": "nowon:gongneung-2",
            "start_ms": now + HOUR, "end_ms": now + 3 * HOUR, "slots": 1, "skills": ["cleaning"],
            "offer_per_hour": 600, "deadline_ms": now + 30 * MINUTE, **changes}
    return city.ok("welfare-admin", "post_request", **args)


def apply(city: City, who: str, request: int, ask: int = 600) -> None:
    record = city.api.post("/v1/contracts/volunteering/queries/request",
                           json={"args": {"request": request}}).json()["result"]
    city.ok(who, "apply", request=request, ask_per_hour=ask, skills=["cleaning"],
            available_from_ms=record["start_ms"], available_until_ms=record["end_ms"])


def cell(text: str, marker: str) -> str:
    """The text of the element carrying ``marker`` (an attribute), tags stripped."""
    start = text.index(marker)
    end = text.index("</", start)
    return re.sub(r"<[^>]+>", " ", text[start:end])


# -- citizens -------------------------------------------------------------------------------------


def test_the_volunteering_home_lists_open_requests_per_district_in_both_languages(city):
    request = post_lunch(city)
    korean = city.page("/volunteer?district=nowon", lang="ko")
    assert '<html lang="ko">' in korean and "모집 중인 요청" in korean
    assert f'data-request="{request}"' in korean and "공원 청소" in korean
    english = city.page("/volunteer?district=gangseo")
    assert "Open requests" in english and f'data-request="{request}"' not in english, "Nowon's, not Gangseo's"
    assert "data-account-page" in english, "the script adds the browser wallet's address"
    assert 'data-request="1"' not in city.page("/volunteer?district=nowon"), "closed requests are not open"


def test_the_home_recommends_requests_to_an_account_and_shows_its_preferences(city):
    request = post_lunch(city)
    page = city.page("/volunteer", account="junho")
    recommended = page[page.index('id="recommended"'):page.index('id="open-h"')]
    assert f'data-request="{request}"' in recommended and "match" in recommended
    mine = city.page("/volunteer", account="minji")
    assert 'value="nowon"' in mine and 'name="districts" data-kind="list" value="nowon"' in mine
    assert 'value="driving"' in mine, "minji's stated skills fill the form"
    apply(city, "junho", request)
    page = city.page("/volunteer", account="junho")
    recommended = page[page.index('id="recommended"'):page.index('id="open-h"')]
    assert f'data-request="{request}"' not in recommended, "nothing already applied for"


def test_paging_through_a_districts_open_requests(city):
    ids = [post_lunch(city, task=f"Task {n}") for n in range(volunteer.LIST_PAGE + 3)]
    first = city.page("/volunteer?district=nowon")
    assert f'data-request="{ids[0]}"' in first and f'data-request="{ids[-1]}"' not in first
    more = re.search(r'href="/volunteer\?district=nowon&(?:amp;)?after=(\d+)', first)
    assert more is not None
    second = city.page(f"/volunteer?district=nowon&after={more.group(1)}")
    assert f'data-request="{ids[-1]}"' in second and f'data-request="{ids[0]}"' not in second
    for path in ("/volunteer?after=x", "/volunteer/me?after=-1", "/console/volunteer?after=1e9",
                 f"/console/volunteer/requests/{ids[0]}?after=zz"):
        assert city.api.get(path).status_code == 200, "a bad paging cursor starts from the beginning"


def test_a_request_page_offers_the_apply_form_then_shows_the_application(city):
    request = post_lunch(city)
    page = city.page(f"/volunteer/requests/{request}", account="junho")
    assert 'data-method="apply"' in page and 'name="ask_per_hour"' in page and 'value="600"' in page
    assert f'data-ms="{city.clock.now + HOUR}"' in page, "availability starts as the request's window"
    korean = city.page(f"/volunteer/requests/{request}", account="junho", lang="ko")
    assert "서명하고 지원하기" in korean and "공원 청소" in korean
    apply(city, "junho", request, ask=500)
    page = city.page(f"/volunteer/requests/{request}", account="junho")
    assert 'data-method="apply"' not in page and 'data-status="applied"' in page and "500 NW an hour" in page
    city.ok("welfare-admin", "close_early", request=request)
    page = city.page(f"/volunteer/requests/{request}", account="junho")
    assert 'data-status="selected"' in page and "rank 1" in page and 'data-status="assigned"' in page


def test_unknown_requests_and_certificates_get_a_not_found_page(city):
    for path in ("/volunteer/requests/999", "/volunteer/requests/0", "/volunteer/requests/abc",
                 "/volunteer/requests/99999999999999999999", "/volunteer/certificates/999",
                 "/volunteer/certificates/x", "/console/volunteer/requests/999"):
        for lang, words in (("en", "Not found"), ("ko", "찾을 수 없")):
            response = city.api.get(f"{path}?lang={lang}")
            assert response.status_code == 404 and words in response.text, (path, lang)


def test_the_whole_activity_shows_on_the_volunteers_page_and_the_manager_console(city):
    request = post_lunch(city)
    apply(city, "junho", request)
    city.ok("welfare-admin", "close_early", request=request)
    console = city.page(f"/console/volunteer/requests/{request}", account="welfare-admin")
    junho_key = city.keys["junho"].public_key.hex()
    assert 'data-cosign="check_in" data-as="manager"' in console
    assert f'data-other-key="{junho_key}"' in console, "the volunteer's key, from their application"
    mine = city.page("/volunteer/me", account="junho")
    manager_key = city.keys["welfare-admin"].public_key.hex()
    assert 'data-cosign="check_in" data-as="volunteer"' in mine and f'data-other-key="{manager_key}"' in mine

    city.clock.now += 40 * MINUTE
    city.ok("junho", "check_in", ("welfare-admin",), request=request, volunteer=city.raw("junho"),
            manager=city.raw("welfare-admin"))
    assert 'data-cosign="check_out"' in city.page("/volunteer/me", account="junho")
    city.clock.now += 2 * HOUR
    city.ok("welfare-admin", "check_out", ("junho",), request=request, volunteer=city.raw("junho"),
            manager=city.raw("welfare-admin"))
    console = city.page(f"/console/volunteer/requests/{request}", account="welfare-admin")
    assert 'data-method="confirm"' in console and 'name="minutes" data-kind="int" value="120"' in console
    assert 'data-method="cancel"' not in console, "work has started: nothing to cancel"
    certificate = city.ok("welfare-admin", "confirm", request=request, volunteer=city.raw("junho"),
                          minutes=120, rating=5, tags=["punctual", "kind"])

    mine = city.page("/volunteer/me", account="junho")
    activity = mine[mine.index(f'data-activity="{request}"'):]
    assert 'data-status="verified"' in activity[:200]
    assert "120 min confirmed · rated 5 · 1,200 NW paid" in activity and "punctual" in activity
    assert f'href="/volunteer/certificates/{certificate}"' in mine
    assert 'data-currency="NW">2,450 NW' in mine, "1,950 earned in the demo − 700 donated + 1,200 now"
    assert all(f'data-method="{m}"' in mine for m in ("spend", "donate", "exchange"))
    korean = city.page("/volunteer/me", account="junho", lang="ko")
    assert "확인 완료 · 코인 지급" in korean and "120분 인정" in korean


def test_pay_at_the_ask_and_minutes_over_the_cap_are_told_before_confirming(city):
    request = post_lunch(city)  # offers 600 NW an hour
    apply(city, "junho", request, ask=500)
    page = city.page(f"/volunteer/requests/{request}", account="junho")
    assert ("You are paid at your own ask, 500 NW an hour, not at the posted offer of 600 NW"
            in cell(page, 'id="paid-at-ask"'))
    korean = city.page(f"/volunteer/requests/{request}", account="junho", lang="ko")
    assert "직접 제시한 금액인 시간당 500 NW" in cell(korean, 'id="paid-at-ask"')
    city.ok("welfare-admin", "close_early", request=request)
    held = city.api.post("/v1/contracts/token/queries/room", json={"args": {
        "currency": "NW", "account": city.address("junho")}}).json()["result"]
    city.ok("nowon-admin", "mint", contract="token", currency="NW", to=city.raw("junho"),
            amount=held - 500)  # room for 500 NW: 60 minutes at 500 an hour
    city.clock.now += 40 * MINUTE
    city.ok("junho", "check_in", ("welfare-admin",), request=request, volunteer=city.raw("junho"),
            manager=city.raw("welfare-admin"))
    city.clock.now += 2 * HOUR
    city.ok("welfare-admin", "check_out", ("junho",), request=request, volunteer=city.raw("junho"),
            manager=city.raw("welfare-admin"))

    told = ("Only 60 of the 120 minutes can be paid: the other 60 minutes would take the "
            "volunteer over the cap of 50,000 NW.")
    console = city.page(f"/console/volunteer/requests/{request}", account="welfare-admin")
    assert "Confirming 120 minutes pays 500 NW, at the volunteer&#39;s own ask of 500 NW" in console
    assert told in console and 'name="minutes" data-kind="int" value="120"' in console
    mine = city.page("/volunteer/me", account="junho")
    assert told in mine
    korean = city.page("/volunteer/me", account="junho", lang="ko")
    assert "120분 중 60분만 지급할 수 있습니다" in korean

    certificate = city.ok("welfare-admin", "confirm", request=request, volunteer=city.raw("junho"),
                          minutes=120, rating=5)
    page = city.page(f"/volunteer/certificates/{certificate}")
    assert "60 minutes were over the cap and earned no credits" in cell(page, 'id="uncredited"')
    assert 'id="verify-ledger" data-verified="true"' in page
    assert '"uncredited_minutes": 60' in page, "the browser's digest check gets every field"


def test_a_certificate_verifies_and_a_wrong_digest_does_not(city):
    page = city.page("/volunteer/certificates/1")
    assert 'id="verify-ledger" data-verified="true"' in page and "Lunch-box delivery" in page
    digest = re.search(r'id="certificate-digest">([0-9a-f]{64})<', page).group(1)
    assert city.page(f"/volunteer/certificates/1?digest={digest}").count('data-valid="true"') == 1
    wrong = ("0" if digest[0] != "0" else "1") + digest[1:]
    assert 'data-valid="false"' in city.page(f"/volunteer/certificates/1?digest={wrong}")
    assert 'data-valid="false"' in city.page("/volunteer/certificates/1?digest=nonsense")
    korean = city.page("/volunteer/certificates/1", lang="ko")
    assert "봉사 확인서 #1" in korean and "원장 계약" in korean


def test_the_volunteers_page_lists_applications_found_in_history(city):
    page = city.page("/volunteer/me", account="seoyeon")
    applications = page[page.index('id="applications"'):page.index('id="certificates"')]
    assert 'data-application="1"' in applications and 'data-application="2"' in applications
    assert applications.count('data-status="not_selected"') == 2
    assert "No activities yet." in page


def test_a_rejected_activity_offers_a_contest_and_the_admin_a_decision(city):
    request = post_lunch(city)
    apply(city, "junho", request)
    city.ok("welfare-admin", "close_early", request=request)
    city.clock.now += 40 * MINUTE
    city.ok("junho", "check_in", ("welfare-admin",), request=request, volunteer=city.raw("junho"),
            manager=city.raw("welfare-admin"))
    city.ok("welfare-admin", "reject", request=request, volunteer=city.raw("junho"), reason="left_early")
    mine = city.page("/volunteer/me", account="junho")
    assert 'data-method="contest"' in mine and "left early" in mine
    city.ok("junho", "contest", request=request, reason="was_present")
    console = city.page(f"/console/volunteer/requests/{request}", account="nowon-admin")
    assert 'data-method="resolve"' in console and "I was there" in console
    assert 'id="not-manager"' in console, "the district admin is told the manager actions are not theirs"


def test_the_organisation_console_shows_what_the_account_may_run(city):
    request = post_lunch(city)
    manager = city.page("/console/volunteer", account="welfare-admin")
    assert 'id="org-welfare"' in manager and 'data-method="post_request"' in manager
    assert f'data-request="{request}"' in manager and "2 volunteers selected" in manager
    assert 'data-method="register_org"' not in manager
    admin = city.page("/console/volunteer", account="nowon-admin", lang="ko")
    assert 'id="district-nowon"' in admin and 'data-method="register_org"' in admin and "구 보고서" in admin
    assert 'id="org-welfare"' not in admin
    citizen = city.page("/console/volunteer", account="minji")
    assert 'id="no-roles"' in citizen
    page = city.page(f"/console/volunteer/requests/{request}", account="welfare-admin")
    assert 'data-method="close_early"' in page and 'data-method="cancel"' in page
    city.clock.now += HOUR
    later = city.page(f"/console/volunteer/requests/{request}", account="welfare-admin")
    assert 'data-method="select"' in later


def test_the_cosign_page_is_a_shell_for_the_fragment(city):
    page = city.page("/volunteer/cosign")
    assert 'id="cosign-details"' in page and "/static/cosign.js" in page
    assert "함께 서명하기" in city.page("/volunteer/cosign", lang="ko")


def test_the_public_key_of_an_account_comes_from_a_transaction_it_signed(city):
    node = city.api.app.state.gateway.node
    assert node.public_key(city.raw("junho")) == city.keys["junho"].public_key
    assert node.public_key(address_of(KeyPair.generate().public_key)) is None


def test_scripts_and_styles_are_served(city):
    for name in ("volunteer.js", "cosign.js", "volunteer.css"):
        assert city.api.get(f"/static/{name}").status_code == 200, name


def test_keys_built_at_run_time_exist():
    ko, en = catalogue("ko"), catalogue("en")
    built = volunteer.status_keys()
    built += [f"volunteer.handoff_help.{p}" for p in ("volunteer", "manager")]
    built += [f"cosign.start_wrong_wallet.{p}" for p in ("volunteer", "manager")]
    built += [f"cosign.role.{p}" for p in ("volunteer", "manager")]
    built += [f"cosign.refused.{c}" for c in ("no_link", "damaged", "unsupported", "wrong_chain", "done",
                                              "expired", "no_wallet", "own_link", "wrong_wallet",
                                              "not_party", "failed")]
    assert [k for k in built if k not in ko or k not in en] == []
    assert {s.value for s in RequestStatus} == {"open", "filled", "unfilled", "cancelled"}


def test_every_refusal_the_volunteering_contract_can_give_has_plain_words():
    from pathlib import Path

    source = Path(volunteer.__file__).parents[1] / "contracts" / "volunteering" / "contract.py"
    codes = set(re.findall(r'code="([a-z_]+)"', source.read_text("utf-8"))) - {"invalid_genesis"}
    assert codes and [c for c in sorted(codes) if f"error.{c}" not in catalogue("en")] == []


def test_the_coins_show_as_of_now_not_as_of_the_last_block(city):
    mine = city.page("/volunteer/me", account="junho")
    assert 'data-currency="NW">1,250 NW' in mine
    city.clock.now += 4 * 365 * 24 * HOUR  # every NW lot has expired; no block since
    mine = city.page("/volunteer/me", account="junho")
    assert 'data-currency="NW">0 NW' in mine, "expired credits are not shown as spendable"
    assert seoul_time(city.clock.now) in cell(mine, 'id="coins-as-of"')
