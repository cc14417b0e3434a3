"""The portal's pages: the public explorer, the transparency dashboards and the browser wallet.

Pages are rendered on the server from the node's own reads (the same ones the
``/v1`` API answers from) and then kept live by small scripts in ``static/``.
The wallet pages only serve the page: keys, signing and submission happen in
the browser, against the public API, and the server never sees a private key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from civicledger.core import address as addresses
from civicledger.core.errors import NotFound, UnknownCall
from civicledger.core.jsonform import plain
from civicledger.gateway import models, views
from civicledger.node.node import Node
from civicledger.node.store import Store
from civicledger.web import charts
from civicledger.web.i18n import Translator, language_of
from civicledger.web.render import ledger_now_ms, node_of, not_found, org_names, render

router = APIRouter(include_in_schema=False)

LATEST_BLOCKS = 10
LATEST_TXS = 10
TX_SCAN_BLOCKS = 200
"""How far back the home page looks for recent transactions (empty blocks are skipped)."""
HISTORY_PAGE = 50


# -- explorer -------------------------------------------------------------------------------------


def _rows(store: Store, height: int) -> list[models.BlockTx]:
    block = store.block(height)
    return views.block_txs(block) if block is not None else []


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    store = node_of(request).store
    with store.reading():
        head = store.head()
        assert head is not None
        lowest = max(-1, head.height - LATEST_BLOCKS)
        headers = [store.header(h) for h in range(head.height, lowest, -1)]
        latest: list[models.BlockTx] = []
        for height in range(head.height, max(-1, head.height - TX_SCAN_BLOCKS), -1):
            header = store.header(height)
            if header is not None and header.tx_count:
                latest.extend(reversed(_rows(store, height)))
            if len(latest) >= LATEST_TXS:
                break
    return render(request, "home.html", {
        "head": head, "headers": [h for h in headers if h is not None], "txs": latest[:LATEST_TXS],
    })


@router.get("/blocks/{ref}", response_class=HTMLResponse)
def block(request: Request, ref: str) -> Response:
    store = node_of(request).store
    with store.reading():
        height = _block_height(store, ref)
        found = store.header(height) if height is not None else None
        rows = _rows(store, height) if found is not None and height is not None else []
    if found is None:
        return not_found(request, ref)
    return render(request, "block.html", {"header": found, "block_hash": found.hash.hex(), "txs": rows})


def _block_height(store: Store, ref: str) -> int | None:
    try:
        return views.block_height(store, ref)
    except UnknownCall:
        return None


@router.get("/tx/{tx_id}", response_class=HTMLResponse)
def transaction(request: Request, tx_id: str) -> Response:
    node = node_of(request)
    try:
        ident = bytes.fromhex(tx_id)
        record = node.transaction(ident) if len(ident) == 32 else None
    except (ValueError, NotFound):
        record = None
    if record is None:
        pending = len(tx_id) == 64 and _is_pending(node, tx_id)
        return render(request, "tx_pending.html", {"tx_id": tx_id}) if pending else not_found(request, tx_id)
    receipt = views.receipt(record.receipt).model_dump()
    return render(request, "tx.html", {
        "tx_id": tx_id, "height": record.height, "index": record.index,
        "time_ms": record.header.time_ms, "block_hash": record.header.hash.hex(),
        "call": views.call(record.tx).model_dump(), "receipt": receipt,
    })


def _is_pending(node: Node, tx_id: str) -> bool:
    try:
        return node.is_pending(bytes.fromhex(tx_id))
    except ValueError:
        return False


@router.get("/address/{account}", response_class=HTMLResponse)
def account(request: Request, account: str, before: str | None = None) -> Response:
    """An account's balances and its history, newest first, a page at a time (``?before=H:I``)."""
    node = node_of(request)
    try:
        raw = addresses.from_text(account)
        position = views.parse_before(before)
    except (addresses.AddressError, UnknownCall) as error:
        return not_found(request, account, str(error))
    balances = views.balances(node, raw)
    entries = node.history(raw, before=position, limit=HISTORY_PAGE)
    history = [views.history_item(e) for e in entries]
    older = f"{entries[-1].height}:{entries[-1].index}" if len(entries) == HISTORY_PAGE else None
    return render(request, "address.html", {
        "account": account, "balances": balances, "history": history, "older": older, "paged": before,
    })


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: str = "") -> Response:
    """A transaction id, a block height or hash, or a civ1… address: go to its page."""
    query = q.strip()
    node = node_of(request)
    if query.isdigit() and len(query) <= 18:
        return RedirectResponse(f"/blocks/{int(query)}", status_code=303)
    if query.lower().startswith(addresses.HRP + "1"):
        try:
            addresses.from_text(query.lower())
        except addresses.AddressError as error:
            return not_found(request, query, str(error))
        return RedirectResponse(f"/address/{query.lower()}", status_code=303)
    if len(query) == 64:
        text = query.lower()
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            return not_found(request, query)
        if node.store.locate(raw) is not None or node.is_pending(raw):
            return RedirectResponse(f"/tx/{text}", status_code=303)
        if node.store.height_of_hash(raw) is not None:
            return RedirectResponse(f"/blocks/{text}", status_code=303)
    return not_found(request, query)


# -- transparency ---------------------------------------------------------------------------------


SERVICE_BARS = ("rewards_paid", "fees_collected", "platform_paid", "budget")
TIMELINE_DAYS = 14
DAY_MS = 24 * 3600 * 1000


def end_of_day_flows(entries: list[dict[str, Any]], current: dict[str, int],
                     days: range) -> list[dict[str, int]]:
    """A service's flows at the end of each of ``days`` (UTC day numbers), from the
    ``incentives.flows_by_day`` entries (flows before each active day's first change) and the
    flows now: a day ends with what the next active day started from."""
    out = []
    for day in days:
        later = next((e for e in entries if e["day"] > day), None)
        out.append(current if later is None else later)
    return out


def daily_charts(node: Node, t: Translator, service: dict[str, Any], today: int) -> tuple[Markup, Markup]:
    """Rewards and fees per day, and the budget left at each day's end, over the last days."""
    days = range(today - TIMELINE_DAYS + 1, today + 1)
    entries = node.query("incentives", "flows_by_day", {
        "service": service["service"], "from_day": days.start, "limit": TIMELINE_DAYS + 1})
    ends = end_of_day_flows(entries, service["flows"], range(days.start - 1, today + 1))
    dates = [datetime.fromtimestamp(day * DAY_MS / 1000, UTC) for day in days]
    labels = [date.strftime("%m-%d") for date in dates]
    ticks = [f"{d.month}/{d.day}" if i == 0 or d.day == 1 else str(d.day) for i, d in enumerate(dates)]
    paid = [b["rewards_paid"] - a["rewards_paid"] for a, b in pairwise(ends)]
    fees = [b["fees_collected"] - a["fees_collected"] for a, b in pairwise(ends)]
    per_day = charts.columns(labels, [(t("flow.rewards_paid"), paid), (t("flow.fees_collected"), fees)],
                             t("chart.daily_of", name=service["title"]), ticks)
    budget = charts.columns(labels, [(t("flow.budget"), [e["budget"] for e in ends[1:]])],
                            t("chart.budget_of", name=service["title"]), ticks)
    return per_day, budget
DISTRICT_BARS = ("minted", "spent", "donated", "exchanged_out", "exchanged_in", "outstanding")


@router.get("/transparency", response_class=HTMLResponse)
def transparency(request: Request) -> Response:
    """Every incentive service's money flows and every volunteering district's report."""
    node = node_of(request)
    t = Translator(language_of(request))
    today = ledger_now_ms(node) // DAY_MS  # up to today, even on a quiet chain
    services = []
    for service in node.query("incentives", "services_list", {"limit": 100}):
        flows = service["flows"]
        bars = [(t(f"flow.{k}"), flows[k]) for k in SERVICE_BARS]
        chart = charts.bars(bars, t("chart.flows_of", name=service["title"]))
        per_day, budget = daily_charts(node, t, service, today)
        services.append({**plain(service), "chart": chart, "per_day": per_day, "budget_chart": budget})
    names = org_names(node)
    districts = []
    for entry in node.query("volunteering", "districts_list", {"limit": 50}):
        district = entry["district"]
        report = node.query("volunteering", "district_report", {"district": district})
        bars = [(t(f"district.{k}"), report[k]) for k in DISTRICT_BARS]
        districts.append({**report, "name": names.get(district, district),
                          "chart": charts.bars(bars, t("chart.district_of", name=district))})
    return render(request, "transparency.html", {
        "services": services, "districts": districts, "timeline_days": TIMELINE_DAYS,
    })


# -- wallet ---------------------------------------------------------------------------------------


@router.get("/wallet", response_class=HTMLResponse)
def wallet(request: Request) -> Response:
    return render(request, "wallet.html", {})


@router.get("/wallet/send", response_class=HTMLResponse)
def send(request: Request) -> Response:
    currencies = node_of(request).query("token", "currencies", {})
    return render(request, "send.html", {"currencies": currencies})
