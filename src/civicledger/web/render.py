"""What every portal page shares: the templates and their filters, rendering in the
reader's language, the node behind the request and the account a page is about.

Pages that act for a citizen or an operator are addressed by account
(``?account=civ1…``): the key lives in the browser, so the server learns which
account a page is for only from the address the page's script puts in the URL
(``static/actions.js`` adds the browser wallet's address when it is missing).
Everything such a page shows is public ledger data anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from civicledger.core import address as addresses
from civicledger.core.errors import NotFound
from civicledger.gateway import gateway_of
from civicledger.node.node import Node
from civicledger.web.i18n import COOKIE, LANGUAGES, Translator, language_of, requested_language

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))

SEOUL = timezone(timedelta(hours=9), "KST")
COOKIE_MAX_AGE_S = 365 * 24 * 3600


def seoul_time(time_ms: int) -> str:
    """A block time as Seoul wall-clock time (the city's; block times are UTC milliseconds)."""
    moment = datetime.fromtimestamp(time_ms / 1000, UTC).astimezone(SEOUL)
    return moment.strftime("%Y-%m-%d %H:%M:%S KST")


def amount(units: int, decimals: int = 0) -> str:
    """Integer minor units as text with thousands separators: 1234567, 2 → ``12,345.67``."""
    sign = "-" if units < 0 else ""
    whole, part = divmod(abs(units), 10**decimals)
    text = f"{sign}{whole:,}"
    return f"{text}.{part:0{decimals}d}" if decimals else text


def short(text: str, keep: int = 10) -> str:
    """A long id or address cut in the middle for tables (the full text stays in the link)."""
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-6:]}"


def call_name(contract: str, name: str) -> Markup:
    """``contract.name`` that a narrow column breaks only after the dot (``.call`` in style.css)."""
    return Markup('<span class="call">{}.<wbr>{}</span>').format(contract, name)


templates.env.filters.update(seoul_time=seoul_time, amount=amount, short=short)
templates.env.globals.update(call_name=call_name)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render ``name`` in the request's language, remembering a language switch in a cookie."""
    language = language_of(request)
    t = Translator(language)
    response = templates.TemplateResponse(request, name, {
        "t": t, "lang": language, "languages": LANGUAGES, "path": request.url.path, **context,
    }, status_code=status)
    if requested_language(request):
        response.set_cookie(COOKIE, language, max_age=COOKIE_MAX_AGE_S, samesite="lax")
    return response


def not_found(request: Request, what: str, detail: str = "") -> Response:
    return render(request, "not_found.html", {"what": what, "detail": detail}, status=404)


def no_page(request: Request) -> Response:
    """The portal's 404 page, in the reader's language, for a path that names no page."""
    return render(request, "not_found.html", {"what": request.url.path, "no_page": True}, status=404)


def node_of(request: Request) -> Node:
    return gateway_of(request).node


def account_of(request: Request) -> str | None:
    """The ``civ1…`` account a page is about (``?account=``), or None if absent or not an address."""
    text = request.query_params.get("account", "").strip().lower()
    try:
        addresses.from_text(text)
    except addresses.AddressError:
        return None
    return text


def query_or_none(node: Node, contract: str, name: str, args: dict[str, Any]) -> Any:
    """A contract query's answer, or None when what it asks about does not exist."""
    try:
        return node.query(contract, name, args)
    except NotFound:
        return None


def query_pages(node: Node, contract: str, name: str, args: dict[str, Any], *, cursor: str,
                page: int, most: int) -> list[dict[str, Any]]:
    """A paged contract query read page by page, each from the previous page's last ``cursor``
    field, until a short page or at least ``most`` rows: a page's bounded read of an index."""
    found: list[dict[str, Any]] = []
    after = 0
    while len(found) < most:
        rows = node.query(contract, name, {**args, "after": after, "limit": page})
        found.extend(rows)
        if len(rows) < page:
            break
        after = rows[-1][cursor]
    return found


def ledger_now_ms(node: Node) -> int:
    """Now, as the next block will carry it at the earliest: contracts compare deadlines and
    windows with block times, and on a quiet chain the latest block is older than now."""
    head = node.store.head()
    assert head is not None
    return max(head.time_ms, node.clock())


def roles_of(node: Node, account: str | None) -> set[tuple[str, str]]:
    """Every (role, organisation) the ``civ1…`` account holds; none without an account."""
    if account is None:
        return set()
    held = node.query("governance", "roles_of", {"account": addresses.from_text(account)})
    return {(role, org) for role, org in held}


def org_names(node: Node) -> dict[str, str]:
    """Each organisation's display name, by id."""
    return {org["id"]: org["name"] for org in node.query("governance", "orgs_list", {})}
