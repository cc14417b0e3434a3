"""The gateway's settings, with defaults sized for one embedded node."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    max_body_bytes: int = 128 * 1024
    """Largest request body, except the batch route's."""
    max_batch_bytes: int = 16 * 1024 * 1024
    """Largest body of a batch submission."""
    max_batch: int = 5000
    """Most transactions in one batch."""
    rate_per_s: float = 0.0
    """Requests (a batch counts its transactions) each client may make per second; 0: no limit."""
    burst: int = 10_000
    """How far a client may run ahead of its rate."""
    max_wait_ms: int = 30_000
    """Longest a caller may ask to wait for its transaction to commit."""
    stream_queue_bytes: int = 8 * 1024 * 1024
    """Memory the committed blocks buffered for one live stream may take before a slow reader
    is cut off with ``lagged`` (it may resume with Last-Event-ID); about 8,000 transfers."""
    trust_forwarded: bool = False
    """Take the client's identity from X-Forwarded-For (only behind a trusted proxy)."""
    header_timeout_s: float = 10.0
    """Longest a client may take to send a request's line and headers, counted from connecting
    (or from the first byte of a later request on a kept-alive connection); a slower one is
    closed, with 408 if it had begun."""
    body_timeout_s: float = 30.0
    """Longest a request's body may take to arrive once its head has; then 408 and closed."""
    keep_alive_s: float = 5.0
    """Longest a connection may stay idle between requests before it is closed."""
    max_connections: int = 1000
    """Connections open at once (at most the process's file limit less a reserve); one more
    is answered 503 ``busy`` and closed at once."""

    def __post_init__(self) -> None:
        if min(self.header_timeout_s, self.body_timeout_s, self.keep_alive_s) <= 0:
            raise ValueError("header_timeout_s, body_timeout_s and keep_alive_s must be positive")
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")
