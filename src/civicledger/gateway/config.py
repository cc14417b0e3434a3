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
