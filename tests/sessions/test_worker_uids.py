"""With O16N_WORKER_UIDS, every live worker runs under a uid of its own (server run as root)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.harness import Server, assert_error, nobody_can_run_workers

pytestmark = pytest.mark.skipif(
    not nobody_can_run_workers(), reason="needs root and an interpreter other accounts can run"
)
UIDS = range(201000, 201002)
STRAY = (
    "import os, subprocess\n"
    "uid, home = os.getuid(), os.getcwd()\n"
    "stray = subprocess.Popen(['sleep', '300'], start_new_session=True).pid"
)


def _session(client: httpx.Client) -> str:
    response = client.post("/sessions", json={"runtimeType": "Python"})
    assert response.status_code == 201, response.text
    return str(response.json()["sessionId"])


def _outputs(client: httpx.Client, session: str, code: str, *names: str) -> dict[str, object]:
    response = client.post(
        f"/sessions/{session}/execute", json={"code": code, "outputParameters": list(names)}
    )
    body = response.json()
    assert body["success"], body
    return {item["name"]: item["value"] for item in body["outputParameters"]}


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_workers_get_uids_of_their_own_and_a_uid_is_reused_only_without_strays(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(O16N_WORKER_UIDS=f"{UIDS[0]}-{UIDS[-1]}", O16N_POOL_BLANK_WORKERS="0")
    with server.client(server.token()) as client:
        first, second = _session(client), _session(client)
        a = _outputs(client, first, STRAY, "uid", "home", "stray")
        b = _outputs(client, second, "import os\nuid = os.getuid()", "uid")
        assert {a["uid"], b["uid"]} == set(UIDS)
        peek = f"import os\ntry:\n    os.listdir({a['home']!r})\n    seen = True\n" + (
            "except PermissionError:\n    seen = False"
        )
        assert _outputs(client, second, peek, "seen") == {"seen": False}
        assert_error(client.post("/sessions", json={"runtimeType": "Python"}), 503)

        stray = a["stray"]
        assert isinstance(stray, int)
        client.delete(f"/sessions/{first}")
        assert _running(stray), "the stray left its worker's process group"
        third = _session(client)
        assert _outputs(client, third, "import os\nuid = os.getuid()", "uid") == {"uid": a["uid"]}
        deadline = time.monotonic() + 5
        while _running(stray) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(stray)
