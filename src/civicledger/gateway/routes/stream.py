"""The live event stream over Server-Sent Events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse

from civicledger.core.errors import UnknownCall
from civicledger.gateway.events import FROM_HEIGHT_MARGIN, StreamFilter, parse_position
from civicledger.gateway.routes import gateway_of, parse_address, rate_limited

router = APIRouter(tags=["events"], dependencies=[Depends(rate_limited)])

PING_S = 15


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "`event: event|block|lagged`, `id: height:index:n`, JSON data"}},
)
async def events(
    request: Request,
    contract: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,63}$")] = None,
    name: Annotated[str | None, Query(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$",
                                      description="Event type, e.g. Transferred")] = None,
    account: Annotated[str | None, Query(description="Only events naming this civ1… address")] = None,
    from_height: Annotated[int | None, Query(ge=0, description="Replay from this height first")] = None,
    blocks: Annotated[bool, Query(description="Also send a summary of every block")] = False,
    limit: Annotated[int | None, Query(ge=1, le=1_000_000, description="Stop after this many")] = None,
    last_event_id: Annotated[str | None, Header(description="Resume just after this position")] = None,
) -> EventSourceResponse:
    """Committed events as they happen, filtered by contract, event type and account.

    Without `from_height` the stream starts at the next block; a height far past the
    head is refused (`beyond_head`). Each message's id is its
    position; reconnecting with `Last-Event-ID` resumes right after it. A reader too slow to
    keep up receives `lagged` and should reconnect.
    """
    gateway = gateway_of(request)
    after = None
    if last_event_id:
        try:
            after = parse_position(last_event_id)
        except ValueError:
            raise UnknownCall("Last-Event-ID must be height:index:n", code="invalid_argument") from None
    wanted = StreamFilter(contract, name, parse_address(account) if account else None, blocks)
    head = gateway.node.head.height
    start = from_height if from_height is not None else head + 1
    for asked, what in ((start, "from_height"), (after[0] if after else None, "Last-Event-ID")):
        if asked is not None and asked > head + FROM_HEIGHT_MARGIN:
            raise UnknownCall(f"{what} {asked} is more than {FROM_HEIGHT_MARGIN} blocks past the "
                              f"head ({head})", code="beyond_head")

    async def frames() -> AsyncIterator[dict[str, Any]]:
        sent = 0
        async for message in gateway.hub.stream(wanted, after, start):
            yield {"event": message.kind, "id": message.id, "data": _json(message.data)}
            sent += 1
            if message.kind == "lagged" or (limit is not None and sent >= limit):
                return

    return EventSourceResponse(frames(), ping=PING_S)


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
