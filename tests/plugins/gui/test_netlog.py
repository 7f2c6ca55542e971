"""The net-log reader used by the network test: it must see what leaves loopback."""

from __future__ import annotations

from tests.plugins.gui.netlog import outside

TYPES = {"URL_REQUEST_START_JOB": 1, "TCP_CONNECT_ATTEMPT": 2, "UDP_CONNECT": 3,
         "UDP_BYTES_SENT": 4, "HOST_RESOLVER_DNS_TASK": 5, "SOCKET_ALIVE": 6}


def log(*events):
    return {"constants": {"logEventTypes": TYPES},
            "events": [{"type": TYPES[kind], "source": {"id": source}, "params": params}
                       for kind, source, params in events]}


def test_loopback_only_traffic_passes() -> None:
    assert outside(log(
        ("URL_REQUEST_START_JOB", 1, {"url": "http://127.0.0.1:4321/miniwob/x.html"}),
        ("URL_REQUEST_START_JOB", 1, {"url": "data:text/plain,hi"}),
        ("TCP_CONNECT_ATTEMPT", 2, {"address": "127.0.0.1:4321"}),
        ("TCP_CONNECT_ATTEMPT", 2, {"address": "[::1]:4321"}),
        ("UDP_CONNECT", 3, {"address": "[2001:4860:4860::8888]:443"}),  # probe, no packet
        ("SOCKET_ALIVE", 3, {}),
    )) == []


def test_traffic_that_leaves_is_reported() -> None:
    found = outside(log(
        ("URL_REQUEST_START_JOB", 1, {"url": "https://accounts.google.com/ListAccounts"}),
        ("TCP_CONNECT_ATTEMPT", 2, {"address": "142.250.1.1:443"}),
        ("UDP_CONNECT", 3, {"address": "10.0.0.53:53"}),
        ("UDP_BYTES_SENT", 3, {"byte_count": 40}),
        ("HOST_RESOLVER_DNS_TASK", 4, {"host": "example.com"}),
    ))
    assert found == ["URL_REQUEST_START_JOB https://accounts.google.com/ListAccounts",
                     "TCP_CONNECT_ATTEMPT 142.250.1.1:443", "UDP_BYTES_SENT 10.0.0.53:53",
                     "HOST_RESOLVER_DNS_TASK example.com"]
