"""A real HAProxy (Debian's) balancing round-robin over web nodes on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.harness import free_port

START_SECONDS = 20.0


@dataclass
class Balancer:
    """One haproxy process in the foreground; stop() ends it and removes its folder."""

    url: str
    process: subprocess.Popen[bytes]
    folder: Path

    @classmethod
    def start(cls, backends: list[str]) -> Balancer:
        """Round-robin over `backends` (http://127.0.0.1:PORT each), one request per turn."""
        folder = Path(tempfile.mkdtemp(prefix="o16n-lb-"))
        port = free_port()
        servers = "\n".join(
            f"    server node{index} {url.removeprefix('http://')}"
            for index, url in enumerate(backends)
        )
        config = folder / "haproxy.cfg"
        config.write_text(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 120s\n"
            "    timeout server 120s\n    option http-server-close\n"
            f"frontend web\n    bind 127.0.0.1:{port}\n    default_backend nodes\n"
            f"backend nodes\n    balance roundrobin\n{servers}\n"
        )
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        with (folder / "haproxy.log").open("wb") as log:
            process = subprocess.Popen(
                [haproxy, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=log
            )
        balancer = cls(f"http://127.0.0.1:{port}", process, folder)
        balancer._wait()
        return balancer

    def _wait(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.folder / "haproxy.log").read_text(errors="replace")
                raise RuntimeError(f"haproxy exited: {log}")
            try:
                httpx.get(f"{self.url}/health", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("haproxy did not start")

    def stop(self) -> None:
        """End haproxy and remove its folder."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
