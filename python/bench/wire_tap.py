"""A passive tap on the loopback: when each request's first byte, first content chunk and last byte
crossed the wire, from the kernel's packet timestamps (AF_PACKET, SO_TIMESTAMPNS). No client's clock,
event loop or parser is in these times, so the difference between a client's TTFT and the wire's for
the same request is that client's own measurement error. Needs CAP_NET_RAW (root) on Linux.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Its own process: a thread would take the GIL from the client it is checking.
SNIFFER = r"""
import json, re, signal, socket, struct, sys
port = int(sys.argv[1])
out = open(sys.argv[2], "w", buffering=1)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("lo", 0))
s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS: the kernel's receive time of each packet
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
content = re.compile(sys.argv[3].encode())
print("ready", flush=True)
while True:
    data, anc, _, addr = s.recvmsg(65535, 64)
    if addr[2] == 4:  # PACKET_OUTGOING: each loopback packet is seen again as incoming
        continue
    ts = next((sum(x / d for x, d in zip(struct.unpack("qq", c[:16]), (1, 1e9)))
               for lvl, typ, c in anc if lvl == socket.SOL_SOCKET and typ == 35), None)
    ip = data[14:]
    if ts is None or ip[9] != 6:
        continue
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    tcp = ip[ihl:total]
    sport, dport = struct.unpack("!HH", tcp[:4])
    payload = tcp[(tcp[12] >> 4) * 4:]
    if not payload:
        continue
    if dport == port and payload.startswith(b"POST "):
        out.write(json.dumps(["send", ts, sport]) + "\n")
    elif sport == port:
        if content.search(payload):
            out.write(json.dumps(["content", ts, dport]) + "\n")
        if payload.endswith(b"0\r\n\r\n"):
            out.write(json.dumps(["end", ts, dport]) + "\n")
"""


def available() -> str | None:
    """None when a tap can run here, else why not."""
    import socket

    if not sys.platform.startswith("linux"):
        return "AF_PACKET is Linux only"
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800)).close()
    except OSError as e:
        return f"no raw socket ({e}): run as root or with CAP_NET_RAW"
    return None


class WireTap:
    """``with WireTap(port) as tap: ...`` then ``tap.requests()``: one dict per request (in send order,
    requests one at a time): ``ttft`` (first content chunk after the first byte of the POST) and ``e2e``
    (the chunked stream's last byte), seconds."""

    def __init__(self, port: int, cpus: set[int] | None = None, content: str = '"text":"[^"]'):
        self.port = port
        self.cpus = cpus
        self.content = content  # a regex on a response packet: it carries output
        self._dir = tempfile.TemporaryDirectory(prefix="joules-wire-")
        self._file = Path(self._dir.name) / "packets.jsonl"
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> WireTap:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", SNIFFER, str(self.port), str(self._file), self.content],
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.cpus is not None:
            os.sched_setaffinity(self._proc.pid, self.cpus)
        if self._proc.stdout is None or self._proc.stdout.readline().strip() != "ready":
            self._proc.kill()
            raise RuntimeError("the wire tap did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)
        self._events = [json.loads(line) for line in self._file.read_text().splitlines()]
        self._dir.cleanup()

    def requests(self) -> list[dict]:
        out: list[dict] = []
        for kind, ts, _port in self._events:
            if kind == "send":
                out.append({"send": ts, "first": None, "end": None})
            elif out and kind == "content" and out[-1]["first"] is None:
                out[-1]["first"] = ts
            elif out and kind == "end":
                out[-1]["end"] = ts
        return [
            {
                "ttft": None if r["first"] is None else r["first"] - r["send"],
                "e2e": None if r["end"] is None else r["end"] - r["send"],
            }
            for r in out
        ]

    def requests_by_connection(self) -> list[dict]:
        """Like ``requests`` for requests in flight together: each connection's requests follow one
        another (keep-alive), so the packets are grouped by the client's port. In no set order."""
        by_port: dict[int, list[dict]] = {}
        for kind, ts, port in self._events:
            reqs = by_port.setdefault(port, [])
            if kind == "send":
                reqs.append({"send": ts, "first": None, "end": None})
            elif reqs and kind == "content" and reqs[-1]["first"] is None:
                reqs[-1]["first"] = ts
            elif reqs and kind == "end":
                reqs[-1]["end"] = ts
        return [
            {
                "ttft": None if r["first"] is None else r["first"] - r["send"],
                "e2e": None if r["end"] is None else r["end"] - r["send"],
            }
            for reqs in by_port.values()
            for r in reqs
        ]
