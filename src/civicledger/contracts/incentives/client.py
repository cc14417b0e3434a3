"""What a service contract uses of the registry: its service record and the role checks."""

from __future__ import annotations

from typing import Any

from civicledger.contracts.framework import Context
from civicledger.contracts.incentives.records import ServiceStatus
from civicledger.core.errors import Conflict, NotFound, Unauthorized

CITIZEN_ROLE = "citizen"
"""Held by residents, granted by their district office (any organisation) in governance."""
OPERATOR_ROLE = "operator"
VERIFIER_ROLE = "verifier"


def load_service(ctx: Context, service: str, kind: str, *, active: bool = False) -> dict[str, Any]:
    """The registry's record of ``service``, refused unless ``kind`` runs it (and it is active)."""
    record = ctx.query("incentives", "service", service=service)
    if record["kind"] != kind:
        raise NotFound(f"service '{service}' is a {record['kind']} service, not {kind}",
                       code="wrong_service")
    if active and record["status"] != ServiceStatus.ACTIVE:
        raise Conflict(f"service '{service}' is {record['status']}", code="service_paused")
    return record


def require_role(ctx: Context, role: str, org: str | None, what: str) -> None:
    """Refuse unless the sender holds ``role`` (in ``org``, or in any organisation)."""
    if not ctx.has_role(ctx.sender, role, org):
        where = f" of '{org}'" if org is not None else ""
        raise Unauthorized(f"only a {role}{where} may {what}", code=f"not_{role}")
