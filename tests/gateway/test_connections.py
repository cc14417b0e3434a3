"""The served gateway on a real socket: head deadlines, idle timeouts, a connection bound and
whose word decides a client's identity. Every count is small and every timeout is the test's."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from civicledger.gateway import GatewayConfig
from civicledger.gateway.server import server

WAIT_S = 10.0
"""The longest a socket waits for the server before the test calls it kept open."""


@contextmanager
def serving(node, config: GatewayConfig) -> Iterator[tuple[str, int]]:
    """The node's gateway served by uvicorn on 127.0.0.1 (a free port), in a thread."""
    gateway = server(node, "127.0.0.1", 0, config)
    thread = threading.Thread(target=gateway.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not gateway.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.01)
    host, port = gateway.servers[0].sockets[0].getsockname()[:2]
    try:
        yield host, port
    finally:
        gateway.should_exit = True
        thread.join(WAIT_S)


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=WAIT_S)
    sock.settimeout(WAIT_S)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; ``socket.timeout`` if it keeps it open."""
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


HEAD = b"GET /v1/health HTTP/1.1\r\nHost: test\r\n"


def test_connections_that_send_nothing_are_closed_after_the_head_deadline(node):
    with serving(node, GatewayConfig(header_timeout_s=0.3)) as address:
        idle = [connect(address) for _ in range(50)]
        try:
            assert [read_until_closed(s) for s in idle] == [b""] * 50  # closed, nothing said
        finally:
            for s in idle:
                s.close()


def test_a_head_sent_byte_by_byte_is_cut_off_with_408(node):
    with serving(node, GatewayConfig(header_timeout_s=0.5)) as address:
        slow = [connect(address) for _ in range(20)]
        try:
            for s in slow:
                s.sendall(HEAD)
            answered: dict[socket.socket, bytes] = {}
            for _ in range(100):  # a header line every 50 ms, far past the deadline
                readable, _, _ = select.select([s for s in slow if s not in answered], [], [], 0.05)
                for s in readable:
                    answered[s] = read_until_closed(s)
                if len(answered) == len(slow):
                    break
                for s in slow:
                    if s not in answered:
                        s.sendall(b"X-Slow: 1\r\n")
            assert len(answered) == len(slow)
            for received in answered.values():
                assert received.startswith(b"HTTP/1.1 408"), received
                assert b'"request_timeout"' in received
        finally:
            for s in slow:
                s.close()


def test_a_kept_alive_connection_closes_when_idle_and_its_next_head_has_a_deadline_too(node):
    config = GatewayConfig(header_timeout_s=0.5, keep_alive_s=0.3)
    with serving(node, config) as address:
        idle = connect(address)
        idle.sendall(HEAD + b"\r\n")
        answer = read_until_closed(idle)  # closed by the keep-alive timeout after the answer
        assert answer.startswith(b"HTTP/1.1 200") and b'{"status":"ok"' in answer

        slow = connect(address)
        slow.sendall(HEAD + b"\r\n")
        assert slow.recv(65536).startswith(b"HTTP/1.1 200")
        slow.sendall(HEAD)  # a second request begun, never finished
        assert read_until_closed(slow).startswith(b"HTTP/1.1 408")
        idle.close()
        slow.close()


def test_a_body_that_does_not_arrive_in_time_is_cut_off_with_408(node):
    with serving(node, GatewayConfig(body_timeout_s=0.3)) as address:
        slow = connect(address)
        slow.sendall(b"POST /v1/transactions HTTP/1.1\r\nHost: test\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                     b'{"envelope": "')
        answer = read_until_closed(slow)
        slow.close()
        assert answer.startswith(b"HTTP/1.1 408") and b"body did not arrive" in answer


def test_a_connection_beyond_the_bound_is_answered_busy_and_closed(node):
    config = GatewayConfig(max_connections=5, header_timeout_s=30, keep_alive_s=30)
    with serving(node, config) as address:
        held = [connect(address) for _ in range(5)]
        for s in held:  # each is served, then kept alive
            s.sendall(HEAD + b"\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
        extra = connect(address)
        refused = read_until_closed(extra)
        extra.close()
        assert refused.startswith(b"HTTP/1.1 503") and b'"busy"' in refused
        assert b"retry-after: 1" in refused
        held.pop().close()
        for _ in range(100):  # the server notices the closed one shortly
            retry = connect(address)
            retry.sendall(HEAD + b"Connection: close\r\n\r\n")
            answer = read_until_closed(retry)
            retry.close()
            if answer.startswith(b"HTTP/1.1 200"):
                break
            time.sleep(0.02)
        assert answer.startswith(b"HTTP/1.1 200")
        for s in held:
            s.close()


@pytest.mark.parametrize("bad", [{"header_timeout_s": 0}, {"keep_alive_s": -1},
                                 {"body_timeout_s": 0}, {"max_connections": 0}])
def test_settings_are_checked(bad):
    with pytest.raises(ValueError):
        GatewayConfig(**bad)


def limited_calls(url: str, forwarded_for: list[str]) -> list[int]:
    """Status of ``GET /v1/chain`` (rate limited; health is not) with each X-Forwarded-For."""
    with httpx.Client(base_url=url, timeout=WAIT_S) as client:
        return [client.get("/v1/chain", headers={"X-Forwarded-For": f}).status_code
                for f in forwarded_for]


def test_forwarded_for_is_ignored_unless_the_gateway_trusts_it(node):
    """uvicorn would take X-Forwarded-For from 127.0.0.1 on its own; only the setting decides."""
    spoofed = [f"203.0.113.{i}" for i in range(6)]  # a new 'client' each time
    with serving(node, GatewayConfig(rate_per_s=0.001, burst=3)) as (host, port):
        assert limited_calls(f"http://{host}:{port}", spoofed) == [200] * 3 + [429] * 3
    trusting = GatewayConfig(rate_per_s=0.001, burst=3, trust_forwarded=True)
    with serving(node, trusting) as (host, port):
        url = f"http://{host}:{port}"
        assert limited_calls(url, spoofed) == [200] * 6  # each its own client, as told
        assert limited_calls(url, ["198.51.100.7"] * 4) == [200] * 3 + [429]
