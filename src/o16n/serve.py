"""Running the server: uvicorn on a socket we bind (or are handed), configured from Settings."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys

import uvicorn

from o16n.api.consume_lane import consume_lane_protocol
from o16n.app import bootstrap, create_app
from o16n.settings import Settings

_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _bind(settings: Settings) -> socket.socket:
    """The listening socket, created as TCP explicitly: with protocol 0 the event loop does not
    recognise accepted connections as TCP, never sets TCP_NODELAY on them, and a response
    written in two parts waits ~40 ms for the client's delayed ACK."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((settings.host, settings.port))
    listener.listen(2048)
    return listener


def announce_first_start(settings: Settings, admin_password: str | None) -> None:
    """Tell the operator where the new data directory is and, once, the generated password."""
    print(f"o16n: created a new data directory at {settings.data_dir}", file=sys.stderr)
    if admin_password is not None:
        print(
            f"o16n: generated the password of user 'admin': {admin_password}\n"
            "o16n: it is shown only this once; change it with `o16n users set-password admin`",
            file=sys.stderr,
        )


def _schedule_for_throughput() -> None:
    """Run as a batch task, like the workers: a frame from a worker then no longer preempts
    it, and vice versa, so a pipelined call costs far fewer than two context switches when they
    share a core (measured with bench.consume: W1 0.80x -> 0.86x of the baseline)."""
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def serve(settings: Settings, fd: int | None = None) -> None:
    """Prepare the data directory and serve until interrupted."""
    logging.basicConfig(level=settings.log_level.upper(), format=_LOG_FORMAT)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    first = bootstrap(settings)
    if first.created:
        announce_first_start(settings, first.admin_password)
    listener = socket.socket(fileno=fd) if fd is not None else _bind(settings)
    _schedule_for_throughput()
    host, port = listener.getsockname()[:2]
    address = f"http://{host}:{port}"
    print(f"o16n: listening on {address} (web console: {address}/)", file=sys.stderr, flush=True)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http=consume_lane_protocol(app),  # httptools, answering consume calls itself
        access_log=False,  # ours is the JSON access log of the request middleware
        proxy_headers=False,  # nothing here reads the client address; trust no X-Forwarded-*
        log_level=settings.log_level,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=[listener])
