"""``make run``: ``serve run <config>`` on a local Ray whose Prometheus port is fixed.

``serve run`` starts Ray with ``ray.init()``, which picks a random metrics export port and has
no environment variable to fix it. So this starts the local Ray first, on ``METRICS_PORT``
(default 8080, Ray's and KubeRay's usual port) with the dashboard on 127.0.0.1 as ``serve run``
has it, and with graph/cluster.py's settings (replicas at nice 0), then hands over to ``serve
run`` itself, which uses the Ray already started: same arguments, same output, Ctrl-C (or
SIGTERM) shuts Serve and this Ray down as before.

    python -m graph.run configs/local.yaml
"""

import os
import sys

import ray
from ray.serve._private.constants import SERVE_NAMESPACE
from ray.serve.scripts import cli

from graph.cluster import apply_ray_env

DEFAULT_METRICS_PORT = 8080


def main(argv: list[str]) -> None:
    port = int(os.environ.get("METRICS_PORT", DEFAULT_METRICS_PORT))
    apply_ray_env()
    ray.init(
        address="local",
        namespace=SERVE_NAMESPACE,
        dashboard_host="127.0.0.1",
        _metrics_export_port=port,
    )
    cli.main(["run", *argv], prog_name="serve")


if __name__ == "__main__":
    main(sys.argv[1:])
