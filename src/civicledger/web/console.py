"""Operators' consoles: the account's own page, roles, currencies and governance proposals.

Every page reads public ledger data through the node (the same queries the ``/v1`` API
answers) and offers the contract calls the account may make, as action forms signed in the
browser (``static/actions.js``). A page shows a form only to an account that can use it;
to anyone else it says what is needed, since the contracts refuse the call anyway.

Who may do what comes from the contracts themselves:

* an organisation's admins grant and revoke roles in it (``governance.grant_role``);
* the ``issuer`` role holders of a currency's issuer organisation mint and burn it;
* currencies, exchange rates, new members and shared parameters change only by a proposal
  that an admin of a member organisation makes and admins of enough others approve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from civicledger.core import address as addresses
from civicledger.core import schema
from civicledger.core.errors import UnknownCall
from civicledger.core.jsonform import plain
from civicledger.node.node import Node
from civicledger.web.render import account_of, node_of, not_found, render

router = APIRouter(include_in_schema=False)

KNOWN_ROLES = ("citizen", "issuer", "operator", "verifier", "merchant", "manager", "inspector")
"""Roles the city's contracts check, offered first when granting (any role name is allowed)."""
ROLE_PAGE = 200
PROPOSAL_PAGE = 30
PROPOSAL_DAYS = (7, 30, 60)
"""How long a new proposal stays open, in days (the contract allows up to 90)."""
ROLE_NAME = schema.Name.__metadata__[0]

PROPOSAL_KINDS = (
    ("governance", "add_org"),
    ("governance", "set_param"),
    ("token", "register_currency"),
    ("token", "set_rate"),
    ("token", "remove_rate"),
    ("incentives", "set_platform_share"),
    ("incentives", "set_default_platform_share"),
    ("incentives", "set_treasury"),
)
"""The calls only a passed proposal may make; each gets a form built from its signature."""
CURRENCY_KINDS = (("token", "register_currency"), ("token", "set_rate"))

SELECTS = {"issuer": "org", "from_currency": "currency", "to_currency": "currency",
           "service": "service"}
"""Arguments chosen from what exists rather than typed."""


# -- who the account is ---------------------------------------------------------------------------


@dataclass(slots=True)
class Standing:
    """An account's place in the consortium: its roles per organisation and the orgs it admins."""

    account: str | None
    orgs: dict[str, dict[str, Any]]
    """Every organisation by id (plain: admins as civ1… text)."""
    roles: dict[str, list[str]] = field(default_factory=dict)
    """Roles held, by organisation id."""
    admin_of: list[str] = field(default_factory=list)

    def holds(self, role: str, org: str) -> bool:
        return role in self.roles.get(org, ()) and self.orgs.get(org, {}).get("active", False)

    def name(self, org: str) -> str:
        return self.orgs.get(org, {}).get("name", org)


def standing(node: Node, account: str | None) -> Standing:
    orgs = {o["id"]: plain(o) for o in node.query("governance", "orgs_list", {})}
    found = Standing(account, orgs)
    if account is None:
        return found
    for role, org in node.query("governance", "roles_of", {"account": addresses.from_text(account)}):
        found.roles.setdefault(org, []).append(role)
    found.admin_of = [o for o, record in orgs.items() if record["active"] and account in record["admins"]]
    return found


def _context(request: Request, node: Node) -> dict[str, Any]:
    """What every console page needs: the account, its standing and the current quorum."""
    account = account_of(request)
    return {"account_page": True, "account": account, "me": standing(node, account),
            "required": node.query("governance", "required_approvals", {}), "days": PROPOSAL_DAYS}


# -- the account's page ---------------------------------------------------------------------------


@router.get("/console", response_class=HTMLResponse)
def index(request: Request) -> Response:
    """Who the account is and the consoles it can use."""
    node = node_of(request)
    context = _context(request, node)
    me: Standing = context["me"]
    services = []
    for service in node.query("incentives", "services_list", {"limit": 100}):
        operates = me.holds("operator", service["operator"])
        services.append({"service": service["service"], "title": service["title"],
                         "operator": service["operator"], "mine": operates})
    districts = {d["district"] for d in node.query("volunteering", "districts_list", {"limit": 50})}
    volunteer_roles = [(role, org) for org, roles in me.roles.items() for role in roles
                       if role in ("manager", "merchant")]
    volunteer_roles += [("admin", org) for org in me.admin_of if org in districts]
    issuer_of = [c["symbol"] for c in node.query("token", "currencies", {})
                 if me.holds("issuer", c["issuer"])]
    return render(request, "console/index.html", {
        **context, "services": services, "volunteer_roles": volunteer_roles,
        "issuer_of": issuer_of, "known_roles": KNOWN_ROLES,
    })


# -- roles ----------------------------------------------------------------------------------------


@router.get("/console/roles", response_class=HTMLResponse)
def roles(request: Request, org: str = "", after_role: str = "", after_account: str = "") -> Response:
    """An organisation's role holders; its admins grant and revoke roles here."""
    node = node_of(request)
    context = _context(request, node)
    me: Standing = context["me"]
    chosen = org or (me.admin_of[0] if me.admin_of else next(iter(me.orgs), ""))
    record = me.orgs.get(chosen)
    if record is None:
        return not_found(request, chosen)
    args: dict[str, Any] = {"org": chosen, "limit": ROLE_PAGE}
    cursor = _cursor(after_role, after_account)
    if cursor:
        args.update(cursor)
    holders = [{"role": role, "account": addresses.to_text(account),
                "contract": node.registry.contract_of_account(account)}
               for role, account in node.query("governance", "role_holders", args)]
    more = None
    if len(holders) == ROLE_PAGE:
        more = {"after_role": holders[-1]["role"], "after_account": holders[-1]["account"]}
    offered = list(KNOWN_ROLES) + sorted({h["role"] for h in holders} - set(KNOWN_ROLES))
    return render(request, "console/roles.html", {
        **context, "org": record, "holders": holders, "more": more, "paged": bool(cursor),
        "is_admin": chosen in me.admin_of, "offered_roles": offered,
    })


def _cursor(after_role: str, after_account: str) -> dict[str, Any]:
    """The next-page position from the query string; nothing if it is not well formed."""
    if not after_role:
        return {}
    try:
        ROLE_NAME.check(after_role, "after_role")
        account = addresses.from_text(after_account) if after_account else None
    except (UnknownCall, addresses.AddressError):
        return {}  # a mangled link starts from the first page
    return {"after_role": after_role, "after_account": account}


# -- currencies -----------------------------------------------------------------------------------


@router.get("/console/currencies", response_class=HTMLResponse)
def currencies(request: Request) -> Response:
    """Currencies with their policy and supply, the governed rates, and what the account may do."""
    node = node_of(request)
    context = _context(request, node)
    me: Standing = context["me"]
    listed = node.query("token", "currencies", {})
    for currency in listed:
        currency["issuable"] = me.holds("issuer", currency["issuer"])
    rates = node.query("token", "rates", {})
    return render(request, "console/currencies.html", {
        **context, "currencies": listed, "rates": rates,
        "forms": _proposal_forms(node, me, CURRENCY_KINDS),
        "decimals": {c["symbol"]: c["decimals"] for c in listed},
    })


# -- proposals ------------------------------------------------------------------------------------


@router.get("/console/proposals", response_class=HTMLResponse)
def proposals(request: Request, before: str = "") -> Response:
    """Open and decided proposals with their approvals; admins propose and approve here."""
    node = node_of(request)
    context = _context(request, node)
    me: Standing = context["me"]
    args: dict[str, Any] = {"limit": PROPOSAL_PAGE}
    if before.isdigit() and 1 <= int(before) < 2**63:
        args["before"] = int(before)
    listed = [plain(p) for p in node.query("governance", "proposals_list", args)]
    for proposal in listed:
        proposal["can_approve"] = [o for o in me.admin_of if o not in proposal["approvals"]]
    older = listed[-1]["id"] if len(listed) == PROPOSAL_PAGE and listed[-1]["id"] > 1 else None
    return render(request, "console/proposals.html", {
        **context, "open": [p for p in listed if p["status"] == "open"],
        "past": [p for p in listed if p["status"] != "open"], "older": older,
        "paged": "before" in args, "forms": _proposal_forms(node, me, PROPOSAL_KINDS),
    })


# -- proposal forms, built from the methods' signatures --------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """One argument's input in a proposal form."""

    name: str
    kind: str
    """How actions.js (or console.js) reads it: text, int, address, addresses, bool, days, select."""
    required: bool
    options: tuple[tuple[str, str], ...] = ()
    """For a select: (value, label)."""


@dataclass(frozen=True, slots=True)
class ProposalForm:
    contract: str
    method: str
    fields: tuple[Field, ...]


def _proposal_forms(node: Node, me: Standing, kinds: tuple[tuple[str, str], ...]) -> list[ProposalForm]:
    choices = {
        "org": tuple((o, r["name"]) for o, r in me.orgs.items() if r["active"]),
        "currency": tuple((c["symbol"], f"{c['symbol']} — {c['name']}")
                          for c in node.query("token", "currencies", {})),
        "service": tuple((s["service"], s["title"])
                         for s in node.query("incentives", "services_list", {"limit": 100})),
    }
    forms = []
    for contract, method in kinds:
        cls = node.registry.contracts.get(contract)
        handler = cls.methods.get(method) if cls is not None else None
        if handler is None:
            continue
        fields = tuple(_field(p.name, p.spec, p.required, choices) for p in handler.params)
        forms.append(ProposalForm(contract, method, fields))
    return forms


def _field(name: str, spec: schema.Spec, required: bool, choices: dict[str, tuple]) -> Field:
    if name in SELECTS:
        return Field(name, "select", required, choices[SELECTS[name]])
    if name == "validity_ms":
        return Field(name, "days", required)
    inner = spec.inner if isinstance(spec, schema.Optional) else spec
    required = required and not isinstance(spec, schema.Optional)
    if isinstance(inner, schema.Int):
        return Field(name, "int", required)
    if isinstance(inner, schema.Bool):
        return Field(name, "bool", required)
    if isinstance(inner, schema.Bytes) and inner.low == inner.high == addresses.ADDRESS_SIZE:
        return Field(name, "address", required)
    if isinstance(inner, schema.ListOf) and isinstance(inner.item, schema.Bytes):
        return Field(name, "addresses", required)
    return Field(name, "text", required)
