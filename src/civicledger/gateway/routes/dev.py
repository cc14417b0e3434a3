"""A dev chain's operator calls: moving block time forward (``civic up --dev-clock`` only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from civicledger.gateway import models
from civicledger.gateway.errors import ApiError
from civicledger.gateway.routes import gateway_of, rate_limited

router = APIRouter(prefix="/dev", tags=["dev"], dependencies=[Depends(rate_limited)])


@router.post("/advance-time", response_model=models.DevClockView,
             responses={403: {"model": models.ErrorBody,
                              "description": "`dev_clock_off`: not started with --dev-clock"}})
def advance_time(request: Request, body: models.AdvanceTime) -> models.DevClockView:
    """Move the chain's clock forward by `ms`: the next block's time is at least that much later.

    Only on a chain whose node was started with `civic up --dev-clock`; elsewhere 403
    `dev_clock_off`. Block time still comes from ordering: this moves the orderer's clock.
    """
    gateway = gateway_of(request)
    clock = gateway.dev_clock
    if clock is None:
        raise ApiError(403, "this node's clock cannot be moved: start it with "
                       "`civic up --dev-clock` (dev chains only)", code="dev_clock_off")
    now = clock.advance(body.ms)
    return models.DevClockView(now_ms=now, offset_ms=clock.offset_ms,
                               head_time_ms=gateway.node.head.time_ms)
