"""Contracts: what each one offers (from its declarations) and a generic query route.

A contract's methods, queries and events are declared in its code; the
argument schemas here are generated from those declarations, so this list is
always the contract's real interface.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from civicledger.contracts.framework import Contract, Handler, contract_account
from civicledger.core.address import to_text
from civicledger.core.errors import NotFound
from civicledger.core.jsonform import from_json, plain
from civicledger.gateway import models
from civicledger.gateway.routes import gateway_of, rate_limited
from civicledger.node.asof import query_as_of

router = APIRouter(tags=["contracts"], dependencies=[Depends(rate_limited)])

Name = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


def _args_schema(handler: Handler) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {p.name: p.spec.json_schema() for p in handler.params},
        "required": [p.name for p in handler.params if p.required],
        "additionalProperties": False,
    }


def _handler_info(handler: Handler) -> models.HandlerInfo:
    return models.HandlerInfo(name=handler.name, doc=handler.doc, roles=list(handler.roles),
                              args=_args_schema(handler))


def _info(cls: type[Contract]) -> models.ContractInfo:
    return models.ContractInfo(
        name=cls.name, version=cls.version, account=to_text(contract_account(cls.name)),
        methods=[_handler_info(h) for h in cls.methods.values()],
        queries=[_handler_info(h) for h in cls.queries.values()],
        events=[models.EventInfo(name=e.name, fields=list(e.fields), topics=list(e.topics))
                for e in cls.events.values()],
    )


def _contract(request: Request, name: str) -> type[Contract]:
    cls = gateway_of(request).node.registry.contracts.get(name)
    if cls is None:
        raise NotFound(f"no contract named '{name}'", code="unknown_contract")
    return cls


@router.get("/contracts", response_model=list[models.ContractInfo])
def contracts(request: Request) -> list[models.ContractInfo]:
    """Every contract with its methods, queries and events, and their argument schemas."""
    return [_info(cls) for cls in gateway_of(request).node.registry.contracts.values()]


@router.get("/contracts/{contract}", response_model=models.ContractInfo)
def contract(request: Request, contract: Name) -> models.ContractInfo:
    """One contract's methods, queries and events."""
    return _info(_contract(request, contract))


@router.post("/contracts/{contract}/queries/{query}", response_model=models.QueryResult,
             responses={404: {"model": models.ErrorBody}})
def run_query(request: Request, contract: Name, query: Name,
              body: models.QueryRequest | None = None) -> models.QueryResult:
    """Run any query of any contract on the latest committed state, as of now.

    Arguments follow the query's schema (see `GET /v1/contracts/{contract}`): addresses as
    civ1… text, other bytes as hex, integers as JSON integers. The query sees the node's
    clock as its time (or the last block's, if later), so what expired since the last block
    shows as expired; `as_of_ms` and `height` say which time and state the answer is for.
    """
    node = gateway_of(request).node
    _, handler = node.registry.handler(contract, query, readonly=True)
    specs = {p.name: p.spec for p in handler.params}
    raw = body.args if body is not None else {}
    args = {k: from_json(specs[k], v, k) if k in specs else v for k, v in raw.items()}
    answer = query_as_of(node.store, node.registry, contract, query, args, node.clock())
    return models.QueryResult(result=plain(answer.result), as_of_ms=answer.as_of_ms,
                              height=answer.height)


@router.get("/orgs", response_model=list[dict[str, Any]], tags=["governance"])
def orgs(request: Request) -> list[dict[str, Any]]:
    """The consortium's member organisations and their admins."""
    result: list[dict[str, Any]] = plain(gateway_of(request).node.query("governance", "orgs_list", {}))
    return result


@router.get("/orgs/{org}", response_model=dict[str, Any], tags=["governance"])
def org(request: Request, org: Name) -> dict[str, Any]:
    """One member organisation."""
    result: dict[str, Any] = plain(gateway_of(request).node.query("governance", "org", {"org": org}))
    return result


@router.get("/proposals/{proposal}", response_model=dict[str, Any], tags=["governance"])
def proposal(request: Request, proposal: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> dict[str, Any]:
    """A governance proposal: the call it would make, approvals so far, and its status."""
    node = gateway_of(request).node
    result: dict[str, Any] = plain(node.query("governance", "proposal", {"proposal": proposal}))
    return result
