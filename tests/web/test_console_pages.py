"""The operators' console pages, in-process: what each account sees, in both languages.

A small consortium of three organisations: the city (admin 0, issuer of CIV), Nowon
(admin 1, issuer of NW, which expires) and an NGO (admin 2). Account 3 is a Nowon citizen
and account 4 holds nothing. Proposals need two approvals of three.
"""

from __future__ import annotations

import os
import re

import pytest

from civicledger.contracts.catalog import registry as default_registry
from civicledger.contracts.governance.contract import ProposalStatus
from civicledger.core.address import to_text
from civicledger.core.tx import Transaction
from civicledger.node.node import initialise
from civicledger.node.ordering import wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore
from civicledger.web import console
from civicledger.web.i18n import catalogue
from tests.gateway.conftest import b64
from tests.node.conftest import CHAIN, Genesis

CITY, NOWON, NGO, CITIZEN, NOBODY = range(5)
DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def store(tmp_path, accounts, registry):
    """Overrides the gateway fixtures' one-organisation chain."""
    address = lambda i: to_text(accounts.address(i))  # noqa: E731
    genesis = Genesis(CHAIN, wall_clock_ms(), {
        "governance": {"orgs": [
            {"id": "city", "name": "서울시 Seoul", "admins": [address(CITY)],
             "roles": {address(CITY): ["issuer"]}},
            {"id": "nowon", "name": "노원구 Nowon", "admins": [address(NOWON)],
             "roles": {address(NOWON): ["issuer"], address(CITIZEN): ["citizen"]}},
            {"id": "ngo", "name": "복지관 NGO", "admins": [address(NGO)]},
        ]},
        "token": {
            "currencies": [
                {"symbol": "CIV", "name": "Civic", "issuer": "city", "decimals": 0},
                {"symbol": "NW", "name": "노원 NW", "issuer": "nowon", "decimals": 0,
                 "cap": 50_000, "validity_ms": 3 * 365 * DAY_MS},
            ],
            "balances": [{"symbol": "CIV", "account": address(CITY), "amount": 1_234_567}],
            "rates": [{"from": "NW", "to": "CIV", "num": 1, "den": 1}],
        },
    })
    store = SqliteStore(tmp_path / "ledger.db")
    initialise(store, registry, genesis)
    yield store
    store.close()


def commit(api, accounts, signer: int, call: str, /, **args) -> dict:
    """Sign ``call`` ("contract.method") as account ``signer`` and wait for it to commit."""
    contract, method = call.split(".")
    tx = Transaction(CHAIN, contract, method, args, accounts.keys[signer].public_key, os.urandom(16),
                     wall_clock_ms() + 600_000).sign(accounts.keys[signer])
    response = api.post("/v1/transactions?wait=true", json={"envelope": b64(tx)})
    assert response.status_code == 200, response.text
    return response.json()


def page(api, accounts, path: str, who: int | None, lang: str = "en"):
    joiner = "&" if "?" in path else "?"
    query = f"{joiner}lang={lang}" + (f"&account={to_text(accounts.address(who))}" if who is not None else "")
    response = api.get(path + query)
    assert response.headers["content-type"].startswith("text/html")
    return response


EN, KO = catalogue("en"), catalogue("ko")


def text(key: str, language: dict = EN, **fields) -> str:
    """A catalogue text as it appears in the HTML (Jinja escapes quotes)."""
    value = language[key].format(**fields) if fields else language[key]
    return value.replace("'", "&#39;").replace('"', "&#34;")


# -- the account page ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_account_page_shows_roles_per_org_and_the_consoles(api, accounts, lang):
    words = EN if lang == "en" else KO
    shown = page(api, accounts, "/console", NOWON, lang)
    assert shown.status_code == 200 and f'<html lang="{lang}">' in shown.text
    assert text("console.title", words) in shown.text
    assert to_text(accounts.address(NOWON)) in shown.text
    row = re.search(r'<tr data-org="nowon">.*?</tr>', shown.text, re.S).group(0)
    assert words["console.admin"] in row and words["console.role.issuer"] in row
    assert 'href="/console/roles?org=nowon&amp;account=' in shown.text
    assert text("console.card_currencies_issuer", words, symbols="NW") in shown.text
    assert text("console.card_proposals_admin", words, required=2) in shown.text
    assert 'href="/console/volunteer' in shown.text
    assert 'id="no-roles"' not in shown.text


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_an_account_without_roles_is_told_how_to_get_them(api, accounts, lang):
    words = EN if lang == "en" else KO
    shown = page(api, accounts, "/console", NOBODY, lang)
    assert 'id="no-roles"' in shown.text and 'id="my-roles"' not in shown.text
    for key in ("console.no_roles", "console.how_roles", "console.how_roles_citizen"):
        assert text(key, words) in shown.text
    assert text("console.card_roles_view", words) in shown.text
    assert "data-contract" not in shown.text, "the account page offers no actions"


def test_console_pages_without_an_account_ask_the_script_for_one(api):
    for path in ("/console", "/console/roles", "/console/currencies", "/console/proposals"):
        for query in ("", "?account=civ1nonsense"):
            shown = api.get(path + query)
            assert shown.status_code == 200, path
            assert 'data-account-page data-account=""' in shown.text, path
            assert 'data-method="grant_role"' not in shown.text and 'data-method="mint"' not in shown.text


# -- roles ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_an_org_admin_sees_the_grant_and_revoke_forms(api, accounts, lang):
    words = EN if lang == "en" else KO
    shown = page(api, accounts, "/console/roles?org=nowon", NOWON, lang)
    assert shown.status_code == 200
    assert text("console.roles_title", words, org="노원구 Nowon") in shown.text
    assert 'id="grant-form" data-contract="governance" data-method="grant_role"' in shown.text
    assert '<input type="hidden" name="org" value="nowon">' in shown.text
    assert re.search(r'<select id="grant-role" name="role"[^>]*>\s*<option value="citizen">', shown.text), \
        "citizen comes first: registering residents is the common case"
    citizen = to_text(accounts.address(CITIZEN))
    assert f'data-role="citizen" data-account="{citizen}"' in shown.text
    assert shown.text.count('data-method="revoke_role"') == 2, "one per holder: the citizen and the issuer"
    assert 'id="needs-admin"' not in shown.text
    admins = re.search(r'<textarea id="admins-list" name="admins" data-kind="addresses"[^>]*>'
                       r'([^<]*)</textarea>', shown.text)
    assert admins and admins.group(1).split() == [to_text(accounts.address(NOWON))], \
        "the admin list to change starts as it is"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_non_admin_sees_who_is_needed_not_forms(api, accounts, lang):
    words = EN if lang == "en" else KO
    for who in (CITY, CITIZEN, NOBODY):
        shown = page(api, accounts, "/console/roles?org=nowon", who, lang)
        assert shown.status_code == 200
        assert text("console.needs_admin", words, org="노원구 Nowon") in shown.text
        assert 'data-method="grant_role"' not in shown.text and 'data-method="revoke_role"' not in shown.text
        assert 'data-method="set_admins"' not in shown.text
        assert f'data-account="{to_text(accounts.address(CITIZEN))}"' in shown.text, "the list is public"


def test_the_roles_page_opens_on_an_org_the_account_administers(api, accounts):
    assert 'value="ngo"' in page(api, accounts, "/console/roles", NGO).text
    assert page(api, accounts, "/console/roles", NOBODY).status_code == 200


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_an_unknown_org_is_a_not_found_page(api, accounts, lang):
    for org in ("ghost", "Not%20An%20Id", "x" * 300):
        path = f"/console/roles?org={org}"
        shown = page(api, accounts, path, NOWON, lang)
        assert shown.status_code == 404, path
        assert (EN if lang == "en" else KO)["notfound.title"] in shown.text


def test_a_grant_shows_in_the_list_and_a_revocation_removes_it(api, accounts):
    newcomer = to_text(accounts.address(NOBODY))
    assert commit(api, accounts, NOWON, "governance.grant_role", org="nowon",
                  account=accounts.address(NOBODY), role="citizen")["receipt"]["status"] == "ok"
    shown = page(api, accounts, "/console/roles?org=nowon", NOWON)
    assert f'data-role="citizen" data-account="{newcomer}"' in shown.text
    assert 'data-role="citizen"' in page(api, accounts, "/console", NOBODY).text
    assert commit(api, accounts, NOWON, "governance.revoke_role", org="nowon",
                  account=accounts.address(NOBODY), role="citizen")["receipt"]["status"] == "ok"
    assert newcomer not in page(api, accounts, "/console/roles?org=nowon", NOWON).text


def test_a_long_list_of_holders_pages(api, accounts, monkeypatch):
    monkeypatch.setattr(console, "ROLE_PAGE", 1)
    first = page(api, accounts, "/console/roles?org=nowon", NOWON).text
    link = re.search(r'id="holders-more" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "after_role=citizen" in link
    second = api.get(link + "&lang=en").text
    assert 'data-role="issuer"' in second and 'data-role="citizen"' not in second
    mangled = api.get("/console/roles?org=nowon&after_role=BAD!&after_account=civ1zz&lang=en")
    assert mangled.status_code == 200 and 'data-role="citizen"' in mangled.text, "starts over"


# -- currencies -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_currencies_show_policy_supply_and_rates(api, accounts, lang):
    words = EN if lang == "en" else KO
    shown = page(api, accounts, "/console/currencies", NOBODY, lang).text
    card = re.search(r'<article class="card" data-currency="CIV">.*?</article>', shown, re.S).group(0)
    assert "1,234,567" in card and words["console.never"] in card and words["console.no_limit"] in card
    card = re.search(r'<article class="card" data-currency="NW">.*?</article>', shown, re.S).group(0)
    assert "50,000" in card and words["console.years"].format(n=3) in card
    assert text("console.rate_text", words, den="1", num="1", source="NW", target="CIV") in shown


def test_only_an_issuer_sees_the_mint_form_of_its_coin(api, accounts):
    issuer = page(api, accounts, "/console/currencies", NOWON).text
    assert 'id="mint-NW"' in issuer and 'id="burn-NW"' in issuer and 'id="mint-CIV"' not in issuer
    assert 'data-kind="amount" data-decimals="0"' in issuer
    for who in (CITIZEN, NOBODY):
        other = page(api, accounts, "/console/currencies", who).text
        assert 'data-method="mint"' not in other and 'data-method="burn"' not in other
        assert text("console.needs_issuer") in other
        assert 'data-method="sweep_expired"' in other, "anyone may sweep expired units"


def test_a_mint_raises_the_supply_shown(api, accounts):
    commit(api, accounts, NOWON, "token.mint", currency="NW", to=accounts.address(CITIZEN), amount=700)
    shown = page(api, accounts, "/console/currencies", NOWON).text
    card = re.search(r'<article class="card" data-currency="NW">.*?</article>', shown, re.S).group(0)
    assert re.search(r'class="supply">700<', card)


def test_currency_proposals_are_structured_forms_for_admins_only(api, accounts):
    admin = page(api, accounts, "/console/currencies", CITY).text
    form = re.search(r'<form class="form" id="propose-token-register_currency".*?</form>',
                     admin, re.S).group(0)
    assert 'data-method="propose"' in form and 'name="contract" value="token"' in form
    assert 'name="args.validity_ms" data-kind="days"' in form
    assert re.search(r'<select id="[^"]+" name="args.issuer">', form), "the issuer is chosen, not typed"
    assert 'name="args.cap" data-kind="int"' in form and "data-optional" in form
    assert "remove_rate" in admin and 'id="needs-admin"' not in admin
    other = page(api, accounts, "/console/currencies", CITIZEN).text
    assert 'data-method="propose"' not in other and text("console.needs_any_admin") in other


# -- proposals --------------------------------------------------------------------------------------


def propose_param(api, accounts, signer: int, org: str, name: str, value: int) -> None:
    assert commit(api, accounts, signer, "governance.propose", org=org, contract="governance",
                  method="set_param", args={"name": name, "value": value},
                  expires_ms=wall_clock_ms() + DAY_MS)["receipt"]["status"] == "ok"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_open_proposals_offer_approval_to_the_admins_who_have_not_approved(api, accounts, lang):
    words = EN if lang == "en" else KO
    propose_param(api, accounts, CITY, "city", "max_hours", 9)
    nowon = page(api, accounts, "/console/proposals", NOWON, lang).text
    card = re.search(r'<article class="card proposal" id="proposal-1".*?</article>', nowon, re.S).group(0)
    assert text("console.approvals_count", words, count=1, required=2) in card
    assert "max_hours" in card and text("console.kind.governance.set_param", words) in card
    assert 'data-method="approve"' in card and '<input type="hidden" name="org" value="nowon">' in card
    city = page(api, accounts, "/console/proposals", CITY, lang).text
    assert 'data-method="approve"' not in city and text("console.approved_already", words) in city
    citizen = page(api, accounts, "/console/proposals", CITIZEN, lang).text
    assert 'data-method="approve"' not in citizen and 'data-method="propose"' not in citizen
    assert text("console.needs_any_admin", words) in citizen


def test_an_approved_proposal_moves_to_the_past_as_executed(api, accounts):
    propose_param(api, accounts, CITY, "city", "max_hours", 9)
    commit(api, accounts, NOWON, "governance.approve", org="nowon", proposal=1)
    shown = page(api, accounts, "/console/proposals", NGO).text
    assert 'id="no-open"' in shown
    row = re.search(r'<tr id="proposal-1" data-status="executed">.*?</tr>', shown, re.S).group(0)
    assert EN["console.status.executed"] in row and "2/2" in row


def test_a_failed_proposal_shows_its_outcome(api, accounts):
    propose_param(api, accounts, CITY, "city", "quorum_percent", 0)
    commit(api, accounts, NGO, "governance.approve", org="ngo", proposal=1)
    row = re.search(r'<tr id="proposal-1" data-status="failed">.*?</tr>',
                    page(api, accounts, "/console/proposals", NGO).text, re.S).group(0)
    assert EN["console.status.failed"] in row and "out_of_range" in row


def test_proposals_page_back_through_older_ones(api, accounts, monkeypatch):
    monkeypatch.setattr(console, "PROPOSAL_PAGE", 2)
    for value in range(3):
        propose_param(api, accounts, CITY, "city", "x", value)
    first = page(api, accounts, "/console/proposals", NGO).text
    assert 'id="proposal-3"' in first and 'id="proposal-1"' not in first
    link = re.search(r'id="proposals-older" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    older = api.get(link).text
    assert 'id="proposal-1"' in older and 'id="proposal-3"' not in older
    assert api.get("/console/proposals?before=nonsense").status_code == 200


def test_every_governed_call_has_a_labelled_proposal_form(api, accounts):
    shown = page(api, accounts, "/console/proposals", CITY).text
    for contract, method in console.PROPOSAL_KINDS:
        form = re.search(rf'<form class="form" id="propose-{contract}-{method}".*?</form>', shown, re.S)
        assert form, (contract, method)
        ids = re.findall(r'<(?:input|select) id="([^"]+)"', form.group(0))
        labels = set(re.findall(r'<label for="([^"]+)"', form.group(0)))
        assert ids and set(ids) <= labels, (contract, method, set(ids) - labels)
    assert 'name="args.admins" data-kind="addresses"' in shown
    assert 'name="args.account" data-kind="address"' in shown


# -- words ------------------------------------------------------------------------------------------


def proposal_form_keys() -> list[str]:
    """Catalogue keys the proposal forms build at run time."""
    contracts = default_registry().contracts
    keys = []
    for contract, method in console.PROPOSAL_KINDS:
        keys += [f"console.kind.{contract}.{method}", f"console.kind_help.{contract}.{method}"]
        keys += [f"console.arg.{p.name}" for p in contracts[contract].methods[method].params]
    return keys


def test_keys_the_console_builds_at_run_time_exist():
    built = proposal_form_keys()
    built += [f"console.role.{role}" for role in console.KNOWN_ROLES]
    built += [f"console.status.{status}" for status in ProposalStatus]
    built += [f"error.{code}" for code in (
        "not_admin", "needs_quorum", "conflict", "not_found", "proposal_expired", "out_of_range",
        "currency_exists", "unknown_org", "unknown_currency", "no_rate", "over_max_supply",
        "over_cap", "supply_overflow", "never_expires", "missing_role", "insufficient_funds",
        "invalid_argument", "unknown_contract", "unknown_method", "invalid_days",
        "invalid_addresses")]
    for language in ("ko", "en"):
        assert [k for k in built if k not in catalogue(language)] == [], language
