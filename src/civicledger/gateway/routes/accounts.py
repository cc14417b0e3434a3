"""Accounts: balances in every currency, history, roles, public key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from civicledger.core.errors import NotFound
from civicledger.gateway import models, views
from civicledger.gateway.routes import gateway_of, parse_address, rate_limited
from civicledger.node.node import MAX_HISTORY_PAGE

router = APIRouter(tags=["accounts"], dependencies=[Depends(rate_limited)])

Account = Annotated[str, Path(description="A civ1… address", pattern=models.ACCOUNT_PATTERN)]


@router.get("/accounts/{account}/balances", response_model=models.BalancesView)
def balances(request: Request, account: Account) -> models.BalancesView:
    """What the account holds in each currency: spendable now, and expired (not spendable);
    `as_of_ms` is the time these are for (now, even if the last block is older)."""
    rows, read = views.balances_as_of(gateway_of(request).node, parse_address(account))
    return models.BalancesView(account=account, balances=rows, as_of_ms=read.as_of_ms,
                               height=read.height)


def _mentions(data: dict[str, Any], currency: str) -> bool:
    return currency in (data.get("currency"), data.get("from_currency"), data.get("to_currency"))


@router.get("/accounts/{account}/history", response_model=models.HistoryView)
def history(
    request: Request,
    account: Account,
    before: Annotated[str | None, Query(pattern=r"^\d{1,18}:\d{1,9}$",
                                        description="HEIGHT:INDEX to page back from")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY_PAGE)] = 50,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z][A-Z0-9]{1,11}$",
                                          description="Only events about this currency")] = None,
) -> models.HistoryView:
    """Transactions whose events name the account, newest first (index lookups only)."""
    node = gateway_of(request).node
    entries = node.history(parse_address(account), before=views.parse_before(before), limit=limit)
    items = []
    for entry in entries:
        events = [views.event(e) for e in entry.events]
        if currency is not None:
            events = [e for e in events if _mentions(e.data, currency)]
            if not events:
                continue
        items.append(views.history_item(entry, events))
    last = entries[-1] if len(entries) == limit else None
    return models.HistoryView(account=account, entries=items,
                              next_before=f"{last.height}:{last.index}" if last else None)


@router.get("/accounts/{account}/roles", response_model=list[list[str]])
def roles(request: Request, account: Account) -> list[list[str]]:
    """The account's roles as [role, organisation] pairs."""
    node = gateway_of(request).node
    result: list[list[str]] = node.query("governance", "roles_of", {"account": parse_address(account)})
    return [list(r) for r in result]


@router.get("/accounts/{account}/key", response_model=models.KeyView)
def key(request: Request, account: Account) -> models.KeyView:
    """The account's public key, known once it has signed a committed transaction: what a
    co-signed call needs of the other party. Check it: the address is the key's hash."""
    found = gateway_of(request).node.public_key(parse_address(account))
    if found is None:
        raise NotFound("this account has not signed a committed transaction, so its key is "
                       "not known yet", code="unknown_key")
    return models.KeyView(account=account, public_key=found.hex())
