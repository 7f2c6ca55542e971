"""Reading Chromium's net log (``--log-net-log=FILE``): every place the browser tried to reach.

Test helper: ``outside(path)`` lists what in the log went to anything but loopback -- URL
requests to another host, TCP connects, UDP datagrams sent, and DNS lookups. A UDP socket that
is only ``connect()``-ed (Chromium's IPv6 reachability probe does that to a public address)
sends no packet, so it is not counted; the datagrams it would send are.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

URL_EVENTS = ("URL_REQUEST_START_JOB", "CORS_REQUEST")
CONNECT_EVENTS = ("TCP_CONNECT_ATTEMPT", "TCP_CONNECT")
DNS_EVENTS = ("HOST_RESOLVER_DNS_TASK", "HOST_RESOLVER_SYSTEM_TASK", "DNS_TRANSACTION")


def load(path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError:  # a log cut short by a killed browser lacks its closing
        return json.loads(text.rstrip().rstrip(",") + "]}")


def _loopback_host(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _loopback_address(address: str) -> bool:
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 or address.startswith("[") \
        else address
    return _loopback_host(host)


def outside(log: dict[str, Any]) -> list[str]:
    """Everything in the log that left loopback (empty list: nothing did)."""
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    udp_targets: dict[int, str] = {}
    found = []
    for event in log["events"]:
        kind = names.get(event["type"], "")
        params = event.get("params") or {}
        source = event.get("source", {}).get("id")
        if kind in URL_EVENTS and "url" in params:
            host = urlsplit(params["url"]).hostname or ""
            if urlsplit(params["url"]).scheme in ("http", "https", "ws", "wss") \
                    and not _loopback_host(host):
                found.append(f"{kind} {params['url']}")
        elif kind in CONNECT_EVENTS and "address" in params:
            if not _loopback_address(params["address"]):
                found.append(f"{kind} {params['address']}")
        elif kind == "UDP_CONNECT" and "address" in params:
            udp_targets[source] = params["address"]
        elif kind == "UDP_BYTES_SENT":
            target = params.get("address") or udp_targets.get(source, "?")
            if not _loopback_address(target):
                found.append(f"UDP_BYTES_SENT {target}")
        elif kind in DNS_EVENTS:
            found.append(f"{kind} {params.get('host') or params.get('hostname') or ''}")
    return found
