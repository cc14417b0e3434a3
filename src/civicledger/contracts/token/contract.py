"""Token: multi-currency wallets for the city's incentive token and district coins.

Each currency has a policy (``Currency``): an issuer organisation whose
``issuer`` role holders mint and burn it, an optional per-holder cap, an
optional validity per minted lot and an optional maximum supply. Currencies
and the exchange rates between them are shared by the whole consortium, so
they are set in the genesis document or by a passed governance proposal.

Two ways to hold units, chosen by the currency's policy:

* a currency without validity keeps one integer per (symbol, account) in
  ``balances`` — a transfer reads and writes exactly those two entries;
* a currency with validity keeps lots in ``lots`` keyed (symbol, account,
  expiry), so a prefix scan yields a holder's lots oldest first. A lot is
  spendable while the block time is before its expiry. Spending takes the
  oldest spendable lots first and moves them with their expiry intact,
  splitting the last one; expired lots stay (and count in the supply) until
  ``sweep_expired`` burns them.
* an exchange never lengthens a unit's life: what each lot given buys expires
  with that lot, or at the target's validity from now if that is earlier; an
  expiring currency is not exchanged into a never-expiring one (``would_outlive``).

Rules worth knowing:

* the cap counts the recipient's unexpired units after receiving, for mint,
  transfer, pay, exchange and genesis balances; accounts of contracts (escrow,
  budgets, merchants' tills) are not people and are exempt;
* a transfer to oneself is refused (``self_transfer``): it would move nothing
  and only clutter the account's history;
* ``pay`` lets a contract take payment from the transaction's signer; it is
  refused to governance, whose proposals would otherwise charge the organisation
  admin whose approval happens to complete the quorum;
* every amount and every supply stays within ``MAX_AMOUNT``; the sum of all
  holders' units (spendable and expired) always equals the supply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from civicledger.contracts.framework import Contract, EventSpec, contract_account, method, query
from civicledger.contracts.storage import Map
from civicledger.contracts.token.records import (
    Currency,
    Decimals,
    OptionalLimit,
    OptionalValidity,
    Rate,
    RatePart,
)
from civicledger.core import address as addresses
from civicledger.core.errors import (
    Conflict,
    InsufficientFunds,
    LimitExceeded,
    NotFound,
    Rejection,
    Unauthorized,
    UnknownCall,
)
from civicledger.core.schema import (
    MAX_AMOUNT,
    Address,
    Amount,
    Int,
    Label,
    Memo,
    Name,
    Struct,
    Symbol,
    Text,
)

Lots = tuple[tuple[int | None, int], ...]
"""Units on the move: (expiry in ms or None for never, amount), oldest first."""

ISSUER_ROLE = "issuer"
GENESIS_KEYS = ("balances", "currencies", "rates")
_SYMBOL = Symbol.__metadata__[0]
_GENESIS_BALANCE = Struct((
    ("symbol", _SYMBOL),
    ("account", Text(100, low=1)),
    ("amount", Int(1, MAX_AMOUNT)),
))
"""A genesis balance: {"symbol", "account" (civ1… text), "amount"}; it counts as a mint."""
_GENESIS_RATE = Struct((
    ("from", _SYMBOL),
    ("to", _SYMBOL),
    ("num", Int(1, MAX_AMOUNT)),
    ("den", Int(1, MAX_AMOUNT)),
))


def _invalid(message: str) -> UnknownCall:
    return UnknownCall(message, code="invalid_argument")


def _bad_genesis(where: str, message: str) -> UnknownCall:
    return UnknownCall(f"genesis token.{where}: {message}", code="invalid_genesis")


def _exchanged(taken: Lots, rate: Rate, target: Currency, now_ms: int) -> Lots:
    """The lots an exchange gives for the lots ``taken``, oldest first: what each source lot
    buys keeps that lot's expiry, or the target's validity from now if that ends earlier, so
    an exchange never lengthens a unit's life. Cumulative rounding: the parts add up to
    ``rate.apply`` of the whole, as a single exchange of the sum would."""
    cap = None if target.validity_ms is None else now_ms + target.validity_ms
    out: list[tuple[int | None, int]] = []
    given = bought = 0
    for expiry, units in taken:
        given += units
        part = rate.apply(given) - bought
        bought += part
        if not part:
            continue
        # A never-expiring source (None) into an expiring target gets the target's validity.
        lot = cap if expiry is None else expiry if cap is None else min(expiry, cap)
        if out and out[-1][0] == lot:  # lots come oldest first, so equal expiries are adjacent
            out[-1] = (lot, out[-1][1] + part)
        else:
            out.append((lot, part))
    return tuple(out)


class Token(Contract):
    name = "token"

    policies = Map("currency", Currency)    # symbol -> Currency
    supplies = Map("supply")                # symbol -> units in existence (expired included)
    balances = Map("balance")               # (symbol, account) -> units, never-expiring currencies
    lots = Map("lot")                       # (symbol, account, expiry_ms) -> units, expiring ones
    exchange_rates = Map("rate", Rate)      # (from symbol, to symbol) -> Rate

    CurrencyRegistered = EventSpec("CurrencyRegistered", ("symbol", "name", "issuer"))
    RateSet = EventSpec("RateSet", ("from_currency", "to_currency", "num", "den"))
    RateRemoved = EventSpec("RateRemoved", ("from_currency", "to_currency"))
    Minted = EventSpec("Minted", ("currency", "to", "amount"), topics=("to",))
    Burned = EventSpec("Burned", ("currency", "account", "amount"), topics=("account",))
    Transferred = EventSpec(
        "Transferred", ("currency", "sender", "recipient", "amount", "memo"),
        topics=("sender", "recipient"),
    )
    Paid = EventSpec(
        "Paid", ("currency", "payer", "recipient", "contract", "amount"),
        topics=("payer", "recipient"),
    )
    Exchanged = EventSpec(
        "Exchanged", ("account", "from_currency", "to_currency", "amount_in", "amount_out"),
        topics=("account",),
    )
    Expired = EventSpec("Expired", ("currency", "holder", "amount"), topics=("holder",))

    # -- genesis -----------------------------------------------------------------

    def genesis(self, config: Mapping[str, Any]) -> None:
        """Register currencies, then credit balances (as mints at genesis time), then set rates.

        Governance must be registered before token: issuer organisations are checked.
        """
        unknown = sorted(set(config) - set(GENESIS_KEYS))
        if unknown:
            raise _bad_genesis(unknown[0], f"unknown key; expected {', '.join(GENESIS_KEYS)}")
        register = self.methods["register_currency"]
        for i, entry in enumerate(config.get("currencies", ())):
            try:
                args = register.check_args(entry)
            except UnknownCall as error:
                raise _bad_genesis(f"currencies[{i}]", error.message) from None
            self._register(**args)
        for i, entry in enumerate(config.get("balances", ())):
            where = f"balances[{i}]"
            try:
                entry = _GENESIS_BALANCE.check(entry, where)
                account = addresses.from_text(entry["account"])
            except (UnknownCall, addresses.AddressError) as error:
                raise _bad_genesis(where, str(error)) from None
            symbol = entry["symbol"]
            self._mint_units(symbol, self._currency(symbol), account, entry["amount"])
        for i, entry in enumerate(config.get("rates", ())):
            try:
                entry = _GENESIS_RATE.check(entry, f"rates[{i}]")
            except UnknownCall as error:
                raise _bad_genesis(f"rates[{i}]", error.message) from None
            self._set_rate(entry["from"], entry["to"], entry["num"], entry["den"])

    # -- governance methods ------------------------------------------------------

    @method
    def register_currency(
        self,
        symbol: Symbol,
        name: Label,
        issuer: Name,
        decimals: Decimals = 0,
        cap: OptionalLimit = None,
        validity_ms: OptionalValidity = None,
        max_supply: OptionalLimit = None,
    ) -> None:
        """Register a currency and its policy (by proposal only); its supply starts at 0."""
        self._require_governance()
        self._register(symbol, name, issuer, decimals, cap, validity_ms, max_supply)

    @method
    def set_rate(
        self, from_currency: Symbol, to_currency: Symbol, num: RatePart, den: RatePart
    ) -> None:
        """Let ``amount`` of one currency exchange for ``floor(amount*num/den)`` of another
        (by proposal only). The reverse direction is a rate of its own."""
        self._require_governance()
        self._set_rate(from_currency, to_currency, num, den)

    @method
    def remove_rate(self, from_currency: Symbol, to_currency: Symbol) -> None:
        """Stop exchanges from one currency into another (by proposal only)."""
        self._require_governance()
        if (from_currency, to_currency) not in self.exchange_rates:
            raise NotFound(f"no rate from {from_currency} to {to_currency}", code="no_rate")
        del self.exchange_rates[from_currency, to_currency]
        self.emit(self.RateRemoved, from_currency=from_currency, to_currency=to_currency)

    # -- issuer methods ----------------------------------------------------------

    @method
    def mint(self, currency: Symbol, to: Address, amount: Amount) -> None:
        """Create ``amount`` new units for ``to`` (by an issuer of the currency)."""
        record = self._currency(currency)
        self._require_issuer(currency, record)
        self._mint_units(currency, record, to, amount)

    @method
    def burn(self, currency: Symbol, amount: Amount) -> None:
        """Destroy ``amount`` of the signer's own spendable units (by an issuer of the currency)."""
        record = self._currency(currency)
        self._require_issuer(currency, record)
        sender = self.ctx.sender
        self._debit(currency, record, sender, amount)
        self.supplies[currency] = self.supplies[currency] - amount
        self.emit(self.Burned, currency=currency, account=sender, amount=amount)

    # -- holder methods ----------------------------------------------------------

    @method
    def transfer(self, currency: Symbol, to: Address, amount: Amount, memo: Memo = "") -> None:
        """Send ``amount`` of the sender's spendable units to ``to``, oldest lots first."""
        record = self._currency(currency)
        sender = self.ctx.sender
        if to == sender:
            raise Conflict("a transfer needs a recipient other than the sender",
                           code="self_transfer")
        self._credit(currency, record, to, self._debit(currency, record, sender, amount))
        self.emit(self.Transferred, currency=currency, sender=sender, recipient=to, amount=amount,
                  memo=memo)

    @method
    def pay(self, currency: Symbol, amount: Amount) -> None:
        """Move ``amount`` from the transaction's signer to the calling contract's account.

        Only another contract may call this: signing a transaction that calls a contract
        consents to the payments that contract takes.
        """
        caller = self.ctx.caller
        if caller is None:
            raise Unauthorized("only a contract may take payment", code="contracts_only")
        if caller == "governance":
            raise Unauthorized("a governance proposal may not take payment",
                               code="governance_cannot_pay")
        record = self._currency(currency)
        payer, recipient = self.ctx.origin, self.ctx.sender
        self._credit(currency, record, recipient, self._debit(currency, record, payer, amount))
        self.emit(self.Paid, currency=currency, payer=payer, recipient=recipient, contract=caller,
                  amount=amount)

    @method
    def exchange(self, from_currency: Symbol, to_currency: Symbol, amount: Amount) -> int:
        """Burn ``amount`` of one currency and receive ``floor(amount*num/den)`` of another
        at the governed rate; returns the amount received. The units received expire when
        the ones given would have, or at the target's validity from now if that is earlier;
        an expiring currency cannot be exchanged into a never-expiring one."""
        if from_currency == to_currency:
            raise _invalid("exchange needs two different currencies")
        source = self._currency(from_currency)
        target = self._currency(to_currency)
        rate = self.exchange_rates.get((from_currency, to_currency))
        if rate is None:
            raise Conflict(f"no governed rate from {from_currency} to {to_currency}",
                           code="no_rate")
        received = rate.apply(amount)
        if received == 0:
            raise Conflict(
                f"{amount} {from_currency} buys no {to_currency}; exchange at least "
                f"{rate.minimum()}", code="exchange_too_small",
            )
        if source.expires and not target.expires:
            raise Conflict(
                f"{from_currency} expires and {to_currency} does not: exchanging would make "
                f"expiring units last forever", code="would_outlive",
            )
        account = self.ctx.sender
        taken = self._debit(from_currency, source, account, amount)
        self.supplies[from_currency] = self.supplies[from_currency] - amount
        self._issue(to_currency, target, account, received, _exchanged(taken, rate, target,
                                                                       self.ctx.env.time_ms))
        self.emit(self.Exchanged, account=account, from_currency=from_currency,
                  to_currency=to_currency, amount_in=amount, amount_out=received)
        return received

    @method
    def sweep_expired(self, currency: Symbol, holder: Address) -> int:
        """Burn ``holder``'s expired lots (anyone may); returns the units burned."""
        record = self._currency(currency)
        if not record.expires:
            raise Conflict(f"{currency} never expires", code="never_expires")
        now = self.ctx.env.time_ms
        swept = 0
        expired = []
        for (_, _, expiry), units in self.lots.scan(currency, holder):
            if expiry > now:
                break
            expired.append(expiry)
            swept += units
        if swept == 0:
            return 0
        for expiry in expired:
            del self.lots[currency, holder, expiry]
        self.supplies[currency] = self.supplies[currency] - swept
        self.emit(self.Expired, currency=currency, holder=holder, amount=swept)
        return swept

    # -- queries -----------------------------------------------------------------

    @query
    def currency(self, symbol: Symbol) -> dict[str, Any]:
        """A currency's policy and supply."""
        return self._currency(symbol).describe(symbol, self.supplies.get(symbol, 0))

    @query
    def currencies(self) -> list[dict[str, Any]]:
        """Every currency, by symbol."""
        return [record.describe(key[0], self.supplies.get(key[0], 0))
                for key, record in self.policies.scan()]

    @query
    def balance(self, currency: Symbol, account: Address) -> dict[str, Any]:
        """``spendable`` and ``expired`` units, and the lots as [expiry_ms or null, units]."""
        record = self._currency(currency)
        if not record.expires:
            units = self.balances.get((currency, account), 0)
            return {"spendable": units, "expired": 0, "lots": [[None, units]] if units else []}
        now = self.ctx.env.time_ms
        spendable = expired = 0
        lots = []
        for (_, _, expiry), units in self.lots.scan(currency, account):
            lots.append([expiry, units])
            if expiry > now:
                spendable += units
            else:
                expired += units
        return {"spendable": spendable, "expired": expired, "lots": lots}

    @query
    def room(self, currency: Symbol, account: Address) -> int | None:
        """How many more units ``account`` may receive under the cap now; None for no cap
        (an uncapped currency, or the account of a contract)."""
        return self._room(currency, self._currency(currency), account)

    @query
    def supply(self, currency: Symbol) -> int:
        """Units in existence, expired but unswept ones included."""
        self._currency(currency)
        return self.supplies.get(currency, 0)

    @query
    def rate(self, from_currency: Symbol, to_currency: Symbol) -> dict[str, int]:
        """The governed rate as {"num", "den"}."""
        rate = self.exchange_rates.require(
            (from_currency, to_currency), f"no rate from {from_currency} to {to_currency}",
            code="no_rate")
        return {"num": rate.num, "den": rate.den}

    @query
    def rates(self) -> list[dict[str, Any]]:
        """Every governed rate, by (from, to)."""
        return [{"from_currency": key[0], "to_currency": key[1], "num": rate.num, "den": rate.den}
                for key, rate in self.exchange_rates.scan()]

    # -- helpers: policy ---------------------------------------------------------

    def _require_governance(self) -> None:
        if self.ctx.sender != contract_account("governance"):
            raise Unauthorized("only a passed governance proposal may do this", code="needs_quorum")

    def _require_issuer(self, symbol: str, record: Currency) -> None:
        if not self.ctx.has_role(self.ctx.sender, ISSUER_ROLE, record.issuer):
            raise Unauthorized(
                f"only an {ISSUER_ROLE} of '{record.issuer}' may mint or burn {symbol}",
                code="missing_role",
            )

    def _currency(self, symbol: str) -> Currency:
        return self.policies.require(symbol, f"no currency {symbol}", code="unknown_currency")

    def _register(self, symbol: str, name: str, issuer: str, decimals: int, cap: int | None,
                  validity_ms: int | None, max_supply: int | None) -> None:
        if symbol in self.policies:
            raise Conflict(f"currency {symbol} exists already", code="currency_exists")
        try:
            org = self.ctx.query("governance", "org", org=issuer)
        except NotFound:
            org = None
        if org is None or not org["active"]:
            raise NotFound(f"no active organisation '{issuer}' to issue {symbol}",
                           code="unknown_org")
        self.policies[symbol] = Currency(name, issuer, decimals, cap, validity_ms, max_supply)
        self.supplies[symbol] = 0
        self.emit(self.CurrencyRegistered, symbol=symbol, name=name, issuer=issuer)

    def _set_rate(self, from_currency: str, to_currency: str, num: int, den: int) -> None:
        if from_currency == to_currency:
            raise _invalid("a rate needs two different currencies")
        self._currency(from_currency)
        self._currency(to_currency)
        self.exchange_rates[from_currency, to_currency] = Rate(num, den)
        self.emit(self.RateSet, from_currency=from_currency, to_currency=to_currency, num=num,
                  den=den)

    def _is_contract(self, account: bytes) -> bool:
        return self.ctx.registry.contract_of_account(account) is not None

    # -- helpers: moving units ---------------------------------------------------

    def _mint_units(self, symbol: str, record: Currency, to: bytes, amount: int) -> None:
        """Create ``amount`` units in one lot that lives the currency's validity from now."""
        expiry = None if record.validity_ms is None else self.ctx.env.time_ms + record.validity_ms
        self._issue(symbol, record, to, amount, ((expiry, amount),))
        self.emit(self.Minted, currency=symbol, to=to, amount=amount)

    def _issue(self, symbol: str, record: Currency, to: bytes, amount: int, lots: Lots) -> None:
        """Add ``lots`` (``amount`` units in all) to ``to`` and to the supply, within its limits."""
        supply = self.supplies.get(symbol, 0) + amount
        if supply > MAX_AMOUNT:
            raise LimitExceeded(f"{symbol} supply would pass {MAX_AMOUNT}", code="supply_overflow")
        if record.max_supply is not None and supply > record.max_supply:
            raise LimitExceeded(
                f"{symbol} supply would be {supply}, over its maximum {record.max_supply}",
                code="over_max_supply",
            )
        self._credit(symbol, record, to, lots)
        self.supplies[symbol] = supply

    def _debit(self, symbol: str, record: Currency, account: bytes, amount: int) -> Lots:
        """Take ``amount`` spendable units from ``account``, oldest lots first."""
        if not record.expires:
            key = (symbol, account)
            held = self.balances.get(key, 0)
            if held < amount:
                raise self._short(symbol, account, held, amount)
            if held == amount:
                del self.balances[key]
            else:
                self.balances[key] = held - amount
            return ((None, amount),)
        now = self.ctx.env.time_ms
        plan: list[tuple[int, int, int]] = []
        need = amount
        for (_, _, expiry), units in self.lots.scan(symbol, account):
            if expiry <= now:
                continue
            take = min(units, need)
            plan.append((expiry, units, take))
            need -= take
            if need == 0:
                break
        if need:
            raise self._short(symbol, account, amount - need, amount)
        for expiry, units, take in plan:
            if take == units:
                del self.lots[symbol, account, expiry]
            else:
                self.lots[symbol, account, expiry] = units - take
        return tuple((expiry, take) for expiry, _, take in plan)

    def _room(self, symbol: str, record: Currency, account: bytes) -> int | None:
        """Units ``account`` may still receive: the cap less its unexpired units (None: no cap)."""
        if record.cap is None or self._is_contract(account):
            return None
        if not record.expires:
            held = self.balances.get((symbol, account), 0)
        else:
            now = self.ctx.env.time_ms
            held = sum(units for (_, _, expiry), units in self.lots.scan(symbol, account)
                       if expiry > now)
        return max(0, record.cap - held)

    def _credit(self, symbol: str, record: Currency, account: bytes, lots: Lots) -> None:
        """Give ``lots`` to ``account``, within the currency's cap."""
        incoming = sum(units for _, units in lots)
        room = self._room(symbol, record, account)
        if room is not None and incoming > room:
            raise self._over_cap(symbol, record, record.cap - room + incoming)
        if not record.expires:
            key = (symbol, account)
            self.balances[key] = self.balances.get(key, 0) + incoming
            return
        for expiry, units in lots:
            key = (symbol, account, expiry)
            self.lots[key] = self.lots.get(key, 0) + units

    @staticmethod
    def _short(symbol: str, account: bytes, spendable: int, amount: int) -> Rejection:
        return InsufficientFunds(
            f"{addresses.to_text(account)} has {spendable} {symbol} spendable, needs {amount}"
        )

    @staticmethod
    def _over_cap(symbol: str, record: Currency, held: int) -> Rejection:
        assert record.cap is not None
        return LimitExceeded(
            f"the recipient would hold {held} {symbol}, over the cap of {record.cap}",
            code="over_cap",
        )
