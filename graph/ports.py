"""Which TCP ports a run needs, and who holds one that is taken.

``make run`` and the test suite check their ports before starting Ray: a port another process
holds otherwise shows up late and far from its cause (HAProxy failing to start inside an actor,
a dashboard on another port, 172 errors from one fixture). The holder is found from
/proc/net/tcp{,6} and /proc/<pid>/fd (Linux); elsewhere a bind attempt says only that the port
is taken.
"""

import errno
import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

# Ray Serve's own defaults (ray/serve/_private/constants.py); HAProxy binds both on 0.0.0.0.
HAPROXY_STATS_PORT = 8404
HAPROXY_METRICS_PORT = 9101
SERVE_HTTP_PORT = 8000
DASHBOARD_PORT = 8265

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's "st" column
_PROC = Path("/proc")


@dataclass(frozen=True)
class Listener:
    """A listening socket: its address, port and inode, and the process holding it if known."""

    address: str
    port: int
    inode: int
    pid: int | None = None
    command: str | None = None


def haproxy_ports(environ: Mapping[str, str]) -> dict[int, str]:
    """HAProxy's stats and metrics ports, read as Ray Serve reads them; none without HAProxy."""
    if environ.get("RAY_SERVE_ENABLE_HA_PROXY", "0") != "1":
        return {}
    stats = int(environ.get("RAY_SERVE_HAPROXY_STATS_PORT") or HAPROXY_STATS_PORT)
    metrics = int(environ.get("RAY_SERVE_HAPROXY_METRICS_PORT") or HAPROXY_METRICS_PORT)
    return {
        stats: "HAProxy's stats page, RAY_SERVE_HAPROXY_STATS_PORT",
        metrics: "HAProxy's Prometheus endpoint, RAY_SERVE_HAPROXY_METRICS_PORT",
    }


def http_port_of(config_path: str) -> int:
    """The Serve HTTP port a ``serve run`` argument asks for: the config's, or Serve's default."""
    path = Path(config_path)
    if not path.is_file():
        return SERVE_HTTP_PORT
    config = yaml.safe_load(path.read_text()) or {}
    return int((config.get("http_options") or {}).get("port", SERVE_HTTP_PORT))


def parse_proc_net_tcp(text: str, ipv6: bool = False) -> list[Listener]:
    """The listening sockets in the text of /proc/net/tcp (or tcp6, with ``ipv6``)."""
    found = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != _LISTEN:
            continue
        address, port = fields[1].split(":")
        found.append(Listener(_decode_address(address, ipv6), int(port, 16), int(fields[9])))
    return found


def _decode_address(hex_address: str, ipv6: bool) -> str:
    # The kernel prints each 32-bit word of the address in host (little-endian) order.
    words = [hex_address[i : i + 8] for i in range(0, len(hex_address), 8)]
    raw = b"".join(bytes.fromhex(word)[::-1] for word in words)
    if ipv6:
        return f"[{ipaddress.IPv6Address(raw)}]"
    return str(ipaddress.IPv4Address(raw))


def listeners_on(ports: set[int]) -> list[Listener]:
    """Every listening socket on one of ``ports``, with its holder where /proc shows it."""
    tables = [(_PROC / "net" / "tcp", False), (_PROC / "net" / "tcp6", True)]
    if not tables[0][0].exists():
        return [Listener("0.0.0.0", port, 0) for port in sorted(ports) if not _bindable(port)]
    found = []
    for path, ipv6 in tables:
        try:
            found += [s for s in parse_proc_net_tcp(path.read_text(), ipv6) if s.port in ports]
        except OSError:
            continue
    holders = _holders({s.inode for s in found})
    return [
        Listener(s.address, s.port, s.inode, *holders.get(s.inode, (None, None))) for s in found
    ]


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError as error:
            return error.errno != errno.EADDRINUSE
    return True


def _holders(inodes: set[int]) -> dict[int, tuple[int, str]]:
    """Socket inode -> (pid, command line) for the processes this user may look into."""
    wanted = {f"socket:[{inode}]": inode for inode in inodes if inode}
    found: dict[int, tuple[int, str]] = {}
    if not wanted:
        return found
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:  # gone meanwhile, or another user's
            continue
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:  # closed meanwhile (the listing's own descriptor, for one)
                continue
            if link in wanted:
                found[wanted[link]] = (int(entry.name), command_line(int(entry.name)))
        if len(found) == len(wanted):
            break
    return found


def command_line(pid: int) -> str:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    # One line: arguments may hold newlines (python -c).
    return " ".join(raw.replace(b"\0", b" ").decode(errors="replace").split()) or "?"


def describe_taken(port: int, purpose: str, holders: list[Listener], limit: int = 300) -> str:
    """One line naming a taken port, what it is for here, and who holds it."""
    where = ", ".join(sorted({h.address for h in holders})) or "?"
    named = [h for h in holders if h.pid is not None]
    if named:
        who = "; ".join(
            sorted({f"pid {h.pid}: {_shorten(h.command or '?', limit)}" for h in named})
        )
    else:
        who = "a process this user cannot see"
    return f"port {port} ({purpose}) is already in use on {where}, held by {who}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def taken_ports(wanted: Mapping[int, str]) -> list[str]:
    """A line for each port of ``wanted`` (port -> what it is for) that something listens on."""
    by_port: dict[int, list[Listener]] = {}
    for listener in listeners_on(set(wanted)):
        by_port.setdefault(listener.port, []).append(listener)
    return [describe_taken(port, wanted[port], by_port[port]) for port in sorted(by_port)]
