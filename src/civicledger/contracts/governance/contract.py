"""Governance: the consortium's member organisations, their roles, and quorum decisions.

* Founding organisations and their admin keys come from the genesis document.
* An organisation's admins grant and revoke roles (``issuer``, ``operator``,
  ``verifier``, ``merchant``, ``inspector``, …) to accounts within their own
  organisation, and may replace their own admin set.
* Whatever is shared — new members, parameters such as exchange rates or the
  quorum itself — changes only through a proposal: an organisation proposes a
  call, the others approve, and once more than ``quorum_percent`` of the active
  organisations have approved before the proposal expires, the call runs with
  governance as its sender. A call that is then refused marks the proposal
  ``failed`` with the refusal's code; nothing else changes.
* A member organisation that runs a peer registers the peer's Ed25519 key
  here (at genesis, or by proposal: ``set_peer_key`` adds or rotates it,
  ``remove_peer_key`` retires it). After executing a block, each peer signs
  its header; a block is final once ``finality_quorum`` of the peers in force
  at its height have signed the same header (0, the default: a majority of
  them). A key set by the proposal that passes in block h counts from block h
  on; the earlier key counts for the blocks before it, so old attestations
  stay checkable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from civicledger.contracts.framework import Contract, EventSpec, contract_account, method, query
from civicledger.contracts.storage import Map, Record, Value
from civicledger.core import address as addresses
from civicledger.core.errors import Conflict, NotFound, Rejection, Unauthorized
from civicledger.core.schema import (
    Address,
    AnyMap,
    Bytes,
    Int,
    Label,
    ListOf,
    Name,
    Optional,
    Text,
    Timestamp,
)

Admins = Annotated[tuple[bytes, ...], ListOf(Bytes(20, 20), 16, low=1, unique=True)]
OptionalName = Annotated[str | None, Optional(Text(64, r"[a-z][a-z0-9_.-]{0,63}", low=1))]
ProposalId = Annotated[int, Int(1, 2**63 - 1)]
OptionalProposalId = Annotated[int | None, Optional(Int(1, 2**63 - 1))]
OptionalAddress = Annotated[bytes | None, Optional(Bytes(20, 20))]
PageSize = Annotated[int, Int(1, 200)]
Percent = Annotated[int, Int(1, 100)]
PeerPublicKey = Annotated[bytes, Bytes(32, 32)]
OptionalHeight = Annotated[int | None, Optional(Int(0, 2**63 - 1))]

DEFAULT_QUORUM_PERCENT = 50
MAX_PROPOSAL_TTL_MS = 90 * 24 * 3600 * 1000


CallArgs = Annotated[dict[str, Any], AnyMap()]


class ProposalStatus(StrEnum):
    OPEN = "open"
    EXECUTED = "executed"
    FAILED = "failed"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Org(Record):
    name: str
    admins: tuple[bytes, ...]
    active: bool = True


@dataclass(frozen=True, slots=True)
class PeerKey(Record):
    """One entry of an organisation's peer-key history: in force from ``since`` on."""

    key: bytes
    """The peer's Ed25519 public key; empty once the organisation retired its peer."""


@dataclass(frozen=True, slots=True)
class Proposal(Record):
    proposer: str
    """The proposing organisation."""
    contract: str
    method: str
    args: Mapping[str, Any]
    expires_ms: int
    approvals: tuple[str, ...]
    status: str
    outcome: str = ""
    """For a failed proposal, the refusal's code and message."""


class Governance(Contract):
    name = "governance"

    orgs = Map("org", Org)                      # org id -> Org
    roles = Map("role")                         # (account, role, org) -> True
    holders = Map("holder")                     # (org, role, account) -> True: roles by org
    params = Map("param")                       # parameter name -> value
    proposals = Map("proposal", Proposal)       # proposal id -> Proposal
    next_proposal = Value("next_proposal", 1)
    peer_keys = Map("peer_key", PeerKey)        # (org, since height) -> PeerKey

    OrgAdded = EventSpec("OrgAdded", ("org", "name"))
    AdminsChanged = EventSpec("AdminsChanged", ("org",))
    RoleGranted = EventSpec("RoleGranted", ("org", "account", "role"), topics=("account",))
    RoleRevoked = EventSpec("RoleRevoked", ("org", "account", "role"), topics=("account",))
    ParamSet = EventSpec("ParamSet", ("name", "value"))
    Proposed = EventSpec("Proposed", ("id", "org", "contract", "method"))
    Approved = EventSpec("Approved", ("id", "org", "approvals", "required"))
    Decided = EventSpec("Decided", ("id", "status", "outcome"))
    PeerKeySet = EventSpec("PeerKeySet", ("org", "key"))
    PeerKeyRemoved = EventSpec("PeerKeyRemoved", ("org",))

    # -- genesis -----------------------------------------------------------------

    def genesis(self, config: Mapping[str, Any]) -> None:
        for org in config.get("orgs", ()):
            admins = tuple(addresses.from_text(a) for a in org["admins"])
            self.orgs[org["id"]] = Org(org["name"], admins)
            for account_text, roles in org.get("roles", {}).items():
                for role in roles:
                    self._hold(addresses.from_text(account_text), role, org["id"])
        self.params["quorum_percent"] = DEFAULT_QUORUM_PERCENT
        for name, value in config.get("params", {}).items():
            self.params[name] = value
        for peer in config.get("peers", ()):
            self._org(peer["org"])
            key = bytes.fromhex(peer["key"])
            if len(key) != 32:
                raise ValueError(f"the peer key of '{peer['org']}' is not 32 bytes")
            self.peer_keys[peer["org"], 0] = PeerKey(key)

    # -- helpers -----------------------------------------------------------------

    def _org(self, org: str) -> Org:
        record = self.orgs.get(org)
        if record is None or not record.active:
            raise NotFound(f"no active organisation '{org}'")
        return record

    def _require_admin(self, org: str) -> Org:
        record = self._org(org)
        if self.ctx.sender not in record.admins:
            raise Unauthorized(f"only an admin of '{org}' may do this", code="not_admin")
        return record

    def _require_governance(self) -> None:
        if self.ctx.sender != contract_account(self.name):
            raise Unauthorized("only a passed governance proposal may do this", code="needs_quorum")

    def _hold(self, account: bytes, role: str, org: str) -> None:
        self.roles[account, role, org] = True
        self.holders[org, role, account] = True

    def _release(self, account: bytes, role: str, org: str) -> None:
        del self.roles[account, role, org]
        del self.holders[org, role, account]

    def _active_orgs(self) -> list[str]:
        return [key[0] for key, org in self.orgs.scan() if org.active]

    @query
    def required_approvals(self) -> int:
        """Approvals a proposal needs now: more than ``quorum_percent`` of the active orgs."""
        count = len(self._active_orgs())
        return min(count, count * self.params.get("quorum_percent", DEFAULT_QUORUM_PERCENT) // 100 + 1)

    # -- methods -----------------------------------------------------------------

    @method
    def add_org(self, org: Name, name: Label, admins: Admins) -> None:
        """Admit a member organisation (by proposal only)."""
        self._require_governance()
        if org in self.orgs:
            raise Conflict(f"organisation '{org}' exists already")
        self.orgs[org] = Org(name, admins)
        self.emit(self.OrgAdded, org=org, name=name)

    @method
    def set_admins(self, org: Name, admins: Admins) -> None:
        """Replace an organisation's admin keys (by one of its admins)."""
        record = self._require_admin(org)
        self.orgs[org] = record.replace(admins=admins)
        self.emit(self.AdminsChanged, org=org)

    @method
    def grant_role(self, org: Name, account: Address, role: Name) -> None:
        """Grant ``role`` in ``org`` to ``account`` (by an admin of ``org``)."""
        self._require_admin(org)
        if (account, role, org) in self.roles:
            raise Conflict(f"the account already holds '{role}' in '{org}'")
        self._hold(account, role, org)
        self.emit(self.RoleGranted, org=org, account=account, role=role)

    @method
    def revoke_role(self, org: Name, account: Address, role: Name) -> None:
        """Revoke ``role`` in ``org`` from ``account`` (by an admin of ``org``)."""
        self._require_admin(org)
        if (account, role, org) not in self.roles:
            raise NotFound(f"the account does not hold '{role}' in '{org}'")
        self._release(account, role, org)
        self.emit(self.RoleRevoked, org=org, account=account, role=role)

    @method
    def set_param(self, name: Name, value: Annotated[int, Int(0, 2**63 - 1)]) -> None:
        """Set a shared integer parameter (by proposal only)."""
        self._require_governance()
        if name == "quorum_percent" and not 1 <= value <= 100:
            raise Rejection("quorum_percent must be 1 to 100", code="out_of_range")
        if name == "finality_quorum" and value > len(self._peers_at(self.ctx.env.height)):
            raise Rejection("finality_quorum cannot exceed the number of peers", code="out_of_range")
        self.params[name] = value
        self.emit(self.ParamSet, name=name, value=value)

    @method
    def set_peer_key(self, org: Name, key: PeerPublicKey) -> None:
        """Register or rotate ``org``'s peer key, in force from this block on (by proposal only)."""
        self._require_governance()
        self._org(org)
        if any(peer["key"] == key for peer in self._peers_at(self.ctx.env.height)):
            raise Conflict("that key is a peer key already")
        self.peer_keys[org, self.ctx.env.height] = PeerKey(key)
        self.emit(self.PeerKeySet, org=org, key=key)

    @method
    def remove_peer_key(self, org: Name) -> None:
        """Retire ``org``'s peer: its attestations stop counting from this block (by proposal)."""
        self._require_governance()
        if not any(peer["org"] == org for peer in self._peers_at(self.ctx.env.height)):
            raise NotFound(f"'{org}' runs no registered peer")
        self.peer_keys[org, self.ctx.env.height] = PeerKey(b"")
        self.emit(self.PeerKeyRemoved, org=org)

    @method
    def propose(
        self, org: Name, contract: Name, method: Name, args: CallArgs, expires_ms: Timestamp
    ) -> int:
        """Propose that governance call ``contract.method(**args)``; the proposer approves it."""
        self._require_admin(org)
        self.ctx.registry.check_call(contract, method, args)
        now = self.ctx.env.time_ms
        if not now < expires_ms <= now + MAX_PROPOSAL_TTL_MS:
            raise Rejection("a proposal expires within 90 days of now", code="out_of_range")
        proposal_id = self.next_proposal
        self.next_proposal = proposal_id + 1
        self.proposals[proposal_id] = Proposal(
            org, contract, method, args, expires_ms, (), ProposalStatus.OPEN
        )
        self.emit(self.Proposed, id=proposal_id, org=org, contract=contract, method=method)
        self._approve(proposal_id, org)
        return proposal_id

    @method
    def approve(self, org: Name, proposal: ProposalId) -> str:
        """Approve a proposal for ``org``; it runs once the quorum is reached."""
        self._require_admin(org)
        return self._approve(proposal, org)

    def _approve(self, proposal_id: int, org: str) -> str:
        record = self.proposals.require(proposal_id, f"no proposal {proposal_id}")
        if record.status != ProposalStatus.OPEN:
            raise Conflict(f"proposal {proposal_id} is {record.status}")
        if self.ctx.env.time_ms > record.expires_ms:
            raise Conflict(f"proposal {proposal_id} expired", code="proposal_expired")
        if org in record.approvals:
            raise Conflict(f"'{org}' has approved proposal {proposal_id} already")
        record = record.replace(approvals=(*record.approvals, org))
        required = self.required_approvals()
        self.emit(self.Approved, id=proposal_id, org=org, approvals=len(record.approvals),
                  required=required)
        if len(record.approvals) >= required:
            try:
                self.ctx.call(record.contract, record.method, **record.args)
            except Rejection as refusal:
                record = record.replace(status=ProposalStatus.FAILED, outcome=str(refusal))
            else:
                record = record.replace(status=ProposalStatus.EXECUTED)
            self.emit(self.Decided, id=proposal_id, status=record.status, outcome=record.outcome)
        self.proposals[proposal_id] = record
        return record.status

    # -- queries -----------------------------------------------------------------

    @query
    def has_role(self, account: Address, role: Name, org: OptionalName = None) -> bool:
        if org is not None:
            return (account, role, org) in self.roles and self._is_active(org)
        return any(self._is_active(key[2]) for key, _ in self.roles.scan(account, role))

    def _is_active(self, org: str) -> bool:
        record = self.orgs.get(org)
        return record is not None and record.active

    @query
    def roles_of(self, account: Address) -> list[list[str]]:
        """Every (role, org) the account holds."""
        return [[key[1], key[2]] for key, _ in self.roles.scan(account)]

    @query
    def role_holders(
        self, org: Name, role: OptionalName = None, after_role: OptionalName = None,
        after_account: OptionalAddress = None, limit: PageSize = 100,
    ) -> list[list[Any]]:
        """Who holds roles in ``org``, as [role, account] by role then account, ``limit`` at a
        time; only ``role``'s holders if given. The next page starts after the last pair
        (``after_role``, ``after_account``; with ``role``, ``after_account`` alone)."""
        if org not in self.orgs:
            raise NotFound(f"no organisation '{org}'")
        prefix: tuple[Any, ...] = (org,) if role is None else (org, role)
        after: tuple[Any, ...] = () if role is not None or after_role is None else (after_role,)
        if after_account is not None and (role is not None or after_role is not None):
            after = (*after, after_account)
        return [[key[1], key[2]] for key, _ in self.holders.scan(*prefix, after=after or None,
                                                                  limit=limit)]

    @query
    def org(self, org: Name) -> dict[str, Any]:
        record = self.orgs.require(org, f"no organisation '{org}'")
        return {"id": org, "name": record.name, "admins": list(record.admins),
                "active": record.active}

    @query
    def orgs_list(self) -> list[dict[str, Any]]:
        return [{"id": key[0], "name": org.name, "admins": list(org.admins), "active": org.active}
                for key, org in self.orgs.scan()]

    def _peers_at(self, height: int) -> list[dict[str, Any]]:
        in_force: dict[str, tuple[int, bytes]] = {}
        for (org, since), entry in self.peer_keys.scan():
            if since <= height:  # entries of one org come in rising ``since`` order
                in_force[org] = (since, entry.key)
        return [{"org": org, "key": key, "since": since}
                for org, (since, key) in sorted(in_force.items()) if key and self._is_active(org)]

    @query
    def peers(self, height: OptionalHeight = None) -> dict[str, Any]:
        """The peers whose attestations count for block ``height`` (default: the latest), and
        how many matching attestations make that block final."""
        at = self.ctx.env.height if height is None else height
        peers = self._peers_at(at)
        configured = self.params.get("finality_quorum", 0)
        quorum = min(configured, len(peers)) if configured else len(peers) // 2 + 1
        return {"height": at, "peers": peers, "quorum": quorum if peers else 0}

    @query
    def param(self, name: Name) -> Any:
        if name not in self.params:
            raise NotFound(f"no parameter '{name}'")
        return self.params[name]

    @query
    def proposal(self, proposal: ProposalId) -> dict[str, Any]:
        record = self.proposals.require(proposal, f"no proposal {proposal}")
        return self._describe(proposal, record, self.required_approvals())

    @query
    def proposals_list(self, before: OptionalProposalId = None,
                       limit: PageSize = 50) -> list[dict[str, Any]]:
        """Proposals newest first, ``limit`` at a time, starting before the id ``before``.

        Ids run from 1 without gaps and proposals are never deleted, so a page is ``limit``
        lookups by id."""
        newest = self.next_proposal - 1
        start = newest if before is None else min(before - 1, newest)
        required = self.required_approvals()
        return [self._describe(i, self.proposals[i], required)
                for i in range(start, max(0, start - limit), -1)]

    def _describe(self, proposal: int, record: Proposal, required: int) -> dict[str, Any]:
        status = record.status
        if status == ProposalStatus.OPEN and self.ctx.env.time_ms > record.expires_ms:
            status = ProposalStatus.EXPIRED
        return {"id": proposal, "org": record.proposer, "contract": record.contract,
                "method": record.method, "args": dict(record.args), "expires_ms": record.expires_ms,
                "approvals": list(record.approvals), "required": required,
                "status": status, "outcome": record.outcome}
