from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from civicledger.gateway import GatewayConfig, create_app
from civicledger.gateway.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_spends_its_burst_then_refills_at_the_rate():
    clock = Clock()
    limiter = RateLimiter(2.0, 3, clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)
    assert limiter.take("b") == 0.0  # each client has its own bucket
    clock.now = 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0


def test_a_batch_costs_its_size_and_never_waits_past_a_full_bucket():
    clock = Clock()
    limiter = RateLimiter(10.0, 5, clock)
    assert limiter.take("a", 4) == 0.0
    assert limiter.take("a", 50) == pytest.approx(0.4)  # only up to a full bucket
    assert RateLimiter.retry_after(0.4) == "1"


def test_no_rate_means_no_limit():
    limiter = RateLimiter(0, 1)
    assert not limiter.enabled
    assert all(limiter.take("a", 1000) == 0.0 for _ in range(10))


def test_settings_are_checked():
    with pytest.raises(ValueError):
        RateLimiter(-1, 1)
    with pytest.raises(ValueError):
        RateLimiter(1, 0)


def test_a_client_over_its_limit_still_gets_health_and_readiness(node):
    with TestClient(create_app(node, GatewayConfig(rate_per_s=0.001, burst=1))) as api:
        assert api.get("/v1/chain").status_code == 200
        limited = api.get("/v1/chain")
        assert (limited.status_code, limited.json()["error"]["code"]) == (429, "rate_limited")
        for _ in range(3):
            assert api.get("/v1/health").status_code == 200
            ready = api.get("/v1/ready")
            assert ready.status_code == 200 and ready.json()["ready"]
        assert api.get("/v1/chain").status_code == 429  # the limit itself still holds
