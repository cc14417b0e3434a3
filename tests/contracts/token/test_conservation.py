"""Property: random workloads conserve money, respect caps, never lengthen a unit's life, and
failed calls change nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicledger.core.block import Event
from civicledger.core.schema import MAX_AMOUNT
from tests.contracts.token.city import City, make_city

CURRENCIES = ("CIV", "NW", "PT", "EM")
CAPS = {"NW": 2_000, "EM": 1_500}
HOLDERS = ("alice", "bob", "seoul_issuer", "nowon_issuer")

TOKEN_GENESIS = {
    "currencies": [
        {"symbol": "CIV", "name": "plain", "issuer": "seoul"},
        {"symbol": "NW", "name": "capped, expiring", "issuer": "nowon", "cap": CAPS["NW"],
         "validity_ms": 4_000},
        {"symbol": "PT", "name": "expiring, bounded supply", "issuer": "seoul",
         "validity_ms": 15_000, "max_supply": 5_000},
        {"symbol": "EM", "name": "capped", "issuer": "seoul", "cap": CAPS["EM"]},
    ],
    "rates": [
        {"from": "NW", "to": "CIV", "num": 1, "den": 3},
        {"from": "CIV", "to": "NW", "num": 2, "den": 1},
        {"from": "CIV", "to": "PT", "num": 3, "den": 2},
        {"from": "PT", "to": "EM", "num": 1, "den": 1},
        {"from": "NW", "to": "PT", "num": 3, "den": 2},
        {"from": "PT", "to": "NW", "num": 1, "den": 1},
    ],
}

ISSUERS = {"CIV": "seoul_issuer", "NW": "nowon_issuer", "PT": "seoul_issuer",
           "EM": "seoul_issuer", "ZZ": "seoul_issuer"}
SEED = [("CIV", "alice", 1_000), ("CIV", "seoul_issuer", 500), ("NW", "bob", 1_500),
        ("NW", "nowon_issuer", 500), ("PT", "alice", 1_000), ("EM", "bob", 800)]
"""Units minted before the workload starts, so that spending has something to spend."""


def workload_city() -> City:
    city = make_city(token=TOKEN_GENESIS)
    for cur, name, units in SEED:
        receipt = city.call(getattr(city, ISSUERS[cur]), "mint", currency=cur,
                            to=getattr(city, name), amount=units)
        assert receipt.ok, receipt
    return city


RATES = [(r["from"], r["to"]) for r in TOKEN_GENESIS["rates"]]

holder = st.sampled_from(HOLDERS)
spender = st.sampled_from(("richest", "richest", *HOLDERS))
"""Often whoever holds most of the currency, so that spending often succeeds."""
other = st.integers(1, len(HOLDERS) - 1)
"""The recipient: this many places after the sender in HOLDERS (self-transfers are unit-tested)."""
# Mostly the currency's issuer, sometimes any holder (refused unless it is the issuer).
minter = st.sampled_from(("issuer", "issuer", "issuer", *HOLDERS))
currency = st.sampled_from((*CURRENCIES, *CURRENCIES, "ZZ"))
bad_amount = st.sampled_from([0, -1, MAX_AMOUNT, MAX_AMOUNT + 1])


def amounts(high: int) -> st.SearchStrategy[Any]:
    """An explicit amount in 1..high, a share ("share", quarters) of the signer's spendable
    units so that spending often succeeds, or (about one in ten) an off-schema or huge one."""
    return st.tuples(
        st.integers(0, 9), st.integers(1, high), st.tuples(st.just("share"), st.integers(1, 4)),
        bad_amount,
    ).map(lambda t: t[3] if t[0] == 5 else t[2] if t[0] % 2 else t[1])


pair = st.one_of(st.sampled_from(RATES), st.tuples(currency, currency))
step = st.one_of(
    st.tuples(st.just("mint"), minter, currency, holder, amounts(800)),
    st.tuples(st.just("transfer"), spender, currency, other, amounts(200)),
    st.tuples(st.just("burn"), minter, currency, amounts(200)),
    st.tuples(st.just("exchange"), spender, pair, amounts(200)),
    st.tuples(st.just("sweep_expired"), holder, currency, holder),
    st.tuples(st.just("advance"), st.integers(0, 3_000)),
)


def richest(city: City, cur: str) -> str:
    if cur not in CURRENCIES:
        return HOLDERS[0]
    return max(HOLDERS, key=lambda name: city.spendable(cur, getattr(city, name)))


def resolve(city: City, amount: Any, cur: str, account: bytes) -> Any:
    if not (isinstance(amount, tuple) and amount[0] == "share"):
        return amount
    spendable = city.spendable(cur, account) if cur in CURRENCIES else 0
    return max(1, -(-spendable * amount[1] // 4))


def run(city: City, action: tuple[Any, ...]) -> Any:
    """Perform one step; returns its receipt, or None for a step that is not a transaction."""
    kind, *rest = action
    if kind == "advance":
        city.box.advance(rest[0])
        return None
    if kind == "exchange":
        name, (source, target), units = rest
        name = richest(city, source) if name == "richest" else name
        signer = getattr(city, name)
        return city.call(signer, "exchange", from_currency=source, to_currency=target,
                         amount=resolve(city, units, source, signer))
    name, cur = rest[0], rest[1]
    name = richest(city, cur) if name == "richest" else name
    signer = getattr(city, ISSUERS[cur] if name == "issuer" else name)
    if kind == "mint":
        to, units = getattr(city, rest[2]), rest[3]
        return city.call(signer, "mint", currency=cur, to=to, amount=resolve(city, units, cur, to))
    if kind == "transfer":
        to = getattr(city, HOLDERS[(HOLDERS.index(name) + rest[2]) % len(HOLDERS)])
        return city.call(signer, "transfer", currency=cur, to=to,
                         amount=resolve(city, rest[3], cur, signer))
    if kind == "burn":
        return city.call(signer, "burn", currency=cur, amount=resolve(city, rest[2], cur, signer))
    return city.call(signer, "sweep_expired", currency=cur, holder=getattr(city, rest[2]))


Holdings = Counter[tuple[str, bytes]]
"""Units per (currency, account) as the events tell it."""


def holdings(city: City) -> Holdings:
    """Units per (currency, holder) as the state tells it, expired ones included."""
    held: Holdings = Counter()
    for cur in CURRENCIES:
        for name in HOLDERS:
            account = getattr(city, name)
            balance = city.query("balance", currency=cur, account=account)
            assert balance["spendable"] + balance["expired"] == sum(n for _, n in balance["lots"])
            if cur in CAPS:
                assert balance["spendable"] <= CAPS[cur]
            held[cur, account] = balance["spendable"] + balance["expired"]
    return nonzero(held)


def nonzero(units: Holdings) -> Holdings:
    """Without zero entries (unlike unary +, keeps negative ones: they would be a bug)."""
    return Counter({key: n for key, n in units.items() if n != 0})


def replay(events: tuple[Event, ...], told: Holdings) -> None:
    """Apply a successful receipt's events to the holdings they describe."""
    for event in events:
        data = event.data
        if event.name == "Minted":
            told[data["currency"], data["to"]] += data["amount"]
        elif event.name in ("Burned", "Expired"):
            told[data["currency"], data.get("account", data.get("holder"))] -= data["amount"]
        elif event.name == "Transferred":
            told[data["currency"], data["sender"]] -= data["amount"]
            told[data["currency"], data["recipient"]] += data["amount"]
        else:
            assert event.name == "Exchanged", event
            told[data["from_currency"], data["account"]] -= data["amount_in"]
            told[data["to_currency"], data["account"]] += data["amount_out"]


def check_invariants(city: City, told: Holdings) -> None:
    held = holdings(city)
    for cur in CURRENCIES:
        assert sum(n for (c, _), n in held.items() if c == cur) == city.supply(cur), cur
    assert held == nonzero(told)
    assert city.supply("PT") <= 5_000


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=5, max_size=40))
def test_random_workloads_conserve_money(actions: list[tuple[Any, ...]]) -> None:
    """After every step: for each currency the holders' units (spendable and expired) sum to
    the supply, no one holds more than a cap, the events account for every unit moved, and a
    refused call left the state byte for byte as it was."""
    city = workload_city()
    told = holdings(city)
    check_invariants(city, told)
    for action in actions:
        before = dict(city.box.state.entries)
        receipt = run(city, action)
        if receipt is not None:
            assert receipt.status != "contract_error", (action, receipt)
            if receipt.ok:
                replay(receipt.events, told)
            else:
                assert receipt.message and not receipt.events
                assert city.box.state.entries == before, (action, receipt)
        check_invariants(city, told)


VALIDITY = {c["symbol"]: c.get("validity_ms") for c in TOKEN_GENESIS["currencies"]}
FOREVER = 2**64
"""Above every expiry: units alive after it are those of never-expiring currencies."""


def lots_held(city: City) -> dict[str, list[tuple[int, int]]]:
    """Per currency, every holder's lots as (expiry, units); FOREVER for never expiring."""
    held: dict[str, list[tuple[int, int]]] = {}
    for cur in CURRENCIES:
        held[cur] = [(FOREVER if expiry is None else expiry, units)
                     for name in HOLDERS
                     for expiry, units in city.query("balance", currency=cur,
                                                     account=getattr(city, name))["lots"]]
    return held


def alive_after(lots: list[tuple[int, int]], threshold: int) -> int:
    """Units that are still spendable once the block time has reached ``threshold``."""
    return sum(units for expiry, units in lots if expiry > threshold)


def check_lifetimes(action: tuple[Any, ...], receipt: Any, now_ms: int,
                    before: dict[str, list[tuple[int, int]]],
                    after: dict[str, list[tuple[int, int]]]) -> None:
    """For every time T, the units alive after T grow only as the step allows: a mint by what
    it minted, if its lot outlives T; an exchange by what the units given that were alive after
    T buy (rounded up); any other step not at all."""
    thresholds = {now_ms, FOREVER - 1} | {e for lots in (*before.values(), *after.values())
                                          for e, _ in lots}
    allowed: dict[str, Any] = {cur: lambda t: 0 for cur in CURRENCIES}
    for event in receipt.events:
        data = event.data
        if event.name == "Minted":
            validity = VALIDITY[data["currency"]]
            expiry = FOREVER if validity is None else now_ms + validity
            allowed[data["currency"]] = lambda t, e=expiry, n=data["amount"]: n if t < e else 0
        elif event.name == "Exchanged":
            num, den = (next((r["num"], r["den"]) for r in TOKEN_GENESIS["rates"]
                             if (r["from"], r["to"]) == (data["from_currency"],
                                                          data["to_currency"])))
            source = data["from_currency"]
            allowed[data["to_currency"]] = lambda t, s=source, n=num, d=den: -(
                -(alive_after(before[s], t) - alive_after(after[s], t)) * n // d)
    for cur in CURRENCIES:
        for t in sorted(thresholds):
            grew = alive_after(after[cur], t) - alive_after(before[cur], t)
            assert grew <= allowed[cur](t), (action, cur, t, grew, before[cur], after[cur])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=5, max_size=40))
def test_no_workload_lengthens_any_units_life(actions: list[tuple[Any, ...]]) -> None:
    """Mints, transfers, burns, sweeps and exchanges in any order: no step other than a mint
    makes more units alive at any later time than were alive then before it (an exchange
    counts what it was given at the rate), so no round trip renews credits."""
    city = workload_city()
    for action in actions:
        before = lots_held(city)
        receipt = run(city, action)
        after = lots_held(city)
        if receipt is None or not receipt.ok:
            assert after == before
            continue
        check_lifetimes(action, receipt, city.box.time_ms, before, after)
