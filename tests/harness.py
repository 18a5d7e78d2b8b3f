"""A real o16n server in a subprocess, on a socket the test binds and hands over (`--fd`), or
on a port the server binds itself, exactly as `o16n serve` does for a user (`own_socket`)."""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ADMIN_PASSWORD = "Admin-Pass-123"
TRAVERSABLE = 0o711
START_TIMEOUT = 60.0


@dataclass
class Server:
    """One running server: its URL, data directory and process."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    log_path: Path | None = None
    without_env: tuple[str, ...] = ()
    launcher: list[str] = field(default_factory=list)
    own_socket: bool = False

    def start(self) -> Server:
        """Start the server and wait until /health answers (bounded)."""
        if self.own_socket:
            port = free_port()
            self._launch(port, ["--host", "127.0.0.1", "--port", str(port)], ())
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
                listener.bind(("127.0.0.1", 0))
                listener.listen(1024)
                port, fd = listener.getsockname()[1], listener.fileno()
                self._launch(port, ["--fd", str(fd)], (fd,))
        self._wait_healthy()
        return self

    def _launch(self, port: int, listening: list[str], pass_fds: tuple[int, ...]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server.log"
        environment = {**os.environ, "O16N_ADMIN_PASSWORD": ADMIN_PASSWORD, **self.env}
        if os.geteuid() == 0 and not nobody_can_run_workers():
            environment.setdefault("O16N_WORKER_USER", "")
        for name in self.without_env:
            environment.pop(name, None)
        command = [sys.executable, "-m", "o16n", "serve", "--data-dir", str(self.data_dir)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*self.launcher, *command, *listening],
                pass_fds=pass_fds,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"server not healthy in {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL at once, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def client(self, token: str | None = None) -> httpx.Client:
        """An httpx client for this server, with a bearer token when given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60.0)

    def login(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> dict[str, object]:
        """The token response of a successful login."""
        response = httpx.post(
            f"{self.url}/login", json={"username": username, "password": password}, timeout=30
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    def token(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
        """A fresh access token."""
        return str(self.login(username, password)["access_token"])

    def cli(self, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run `o16n ARGS` against this server's data directory."""
        environment = {**os.environ, "O16N_DATA_DIR": str(self.data_dir), **self.env}
        return subprocess.run(
            [sys.executable, "-m", "o16n", *args],
            env=environment,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def free_port() -> int:
    """A port that was free a moment ago (for tests of --port/O16N_PORT; tiny race accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unique_name(prefix: str) -> str:
    """A valid, unused-so-far account name."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def run_o16n(
    *args: str,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m o16n ARGS` in a new session (no controlling terminal: prompts read stdin)."""
    return subprocess.run(
        [sys.executable, "-m", "o16n", *args],
        env={**os.environ, **(env or {})},
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        start_new_session=True,
    )


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], timeout: float = START_TIMEOUT
) -> None:
    """Poll `url`/health until it answers 200; fail when the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} not healthy in {timeout} s")


def assert_error(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, object]:
    """`response` is ML Server's JSON error shape with `status`, echoing its request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert isinstance(body.get("exceptionType"), str) and body["exceptionType"], body
    assert body.get("code") == status, body
    assert isinstance(body.get("errorCode"), str) and body["errorCode"], body
    assert isinstance(body.get("requestId"), str) and body["requestId"], body
    assert response.headers.get("x-request-id") == body["requestId"], response.headers
    assert "Traceback" not in response.text
    if field is not None:
        assert body.get("field") == field, body
    result: dict[str, object] = body
    return result


def traversable_tmp_dir(prefix: str) -> Path:
    """A new directory in /tmp that the unprivileged worker account may pass through.

    pytest's own temporary directories live under a 0700 folder of root's, which a worker
    running as `nobody` cannot reach by absolute path (imports from its working directory do).
    """
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(TRAVERSABLE)
    return path


@functools.cache
def nobody_can_run_workers() -> bool:
    """Whether `nobody` can run this interpreter with numpy and o16n (needs root to try).

    Not where the checkout or its .venv sits in a folder others cannot enter (a 0700
    `mktemp -d`): servers started by the tests then keep workers under the test's own
    identity, and the tests that check the switch to `nobody` say so.
    """
    source = str(Path(__file__).resolve().parents[1] / "src")
    probe = [sys.executable, "-c", "import numpy, msgpack, o16n.runtime.worker"]
    try:
        done = subprocess.run(
            probe,
            user="nobody",
            env={"PYTHONPATH": source},
            cwd="/",
            capture_output=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0
