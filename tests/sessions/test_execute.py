"""Sessions over HTTP: the seed's steps, console output, failures, crashes, cancel, deadline."""

from __future__ import annotations

import threading
import time

import httpx
import numpy as np
from sklearn import datasets, svm

from tests.harness import Server, assert_error

SEED_IMPORTS = "import pandas as pd\nfrom sklearn import svm\nfrom sklearn import datasets\n"


def _session(client: httpx.Client, name: str = "Session 1") -> str:
    response = client.post("/sessions", json={"name": name, "runtimeType": "Python"})
    assert response.status_code == 201, response.text
    return str(response.json()["sessionId"])


def _execute(client: httpx.Client, session: str, code: str, **extra: object) -> dict[str, object]:
    response = client.post(f"/sessions/{session}/execute", json={"code": code, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    assert set(body) >= {"success", "errorMessage", "consoleOutput", "outputParameters"}
    return body


def test_seed_walkthrough_session_steps(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        assert _execute(client, session, SEED_IMPORTS)["success"] is True
        setup = "clf = svm.SVC()\niris = datasets.load_iris()"
        assert _execute(client, session, setup)["success"] is True
        rows = {"species_1": [[7, 3.2, 4.7, 1.4]], "species_2": [[3, 2.6, 3, 2.5]]}
        body = _execute(
            client,
            session,
            "clf.fit(iris.data, iris.target)\n"
            "result = clf.predict(species_1)\nother_result = clf.predict(species_2)",
            inputParameters=[{"name": k, "value": v} for k, v in rows.items()],
            outputParameters=["result", "other_result"],
        )
    assert body["success"] is True, body["errorMessage"]
    iris = datasets.load_iris()
    expected = svm.SVC().fit(iris.data, iris.target)
    outputs = {item["name"]: item["value"] for item in body["outputParameters"]}  # type: ignore[attr-defined]
    assert outputs["result"] == expected.predict(np.array(rows["species_1"])).tolist()
    assert outputs["other_result"] == expected.predict(np.array(rows["species_2"])).tolist()


def test_console_output_and_history(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        body = _execute(client, session, "print('hello from the worker')\nx = 41 + 1")
        assert body["consoleOutput"] == "hello from the worker\n"
        console = client.get(f"/sessions/{session}/console-output").json()
        assert console == {"consoleOutput": "hello from the worker\n"}
        _execute(client, session, "y = x * 2")
        history = client.get(f"/sessions/{session}/history").json()
        assert history == ["print('hello from the worker')\nx = 41 + 1", "y = x * 2"]
        body = _execute(client, session, "", outputParameters=["y", "missing"])
        assert body["outputParameters"] == [
            {"name": "y", "value": 84},
            {"name": "missing", "value": None},
        ]


def test_user_exception_is_reported_and_server_stays_healthy(
    server: Server, admin_token: str
) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        body = _execute(client, session, "raise ValueError('bad flower')")
        assert body["success"] is False
        assert "ValueError: bad flower" in str(body["errorMessage"])
        assert _execute(client, session, "z = 1", outputParameters=["z"])["success"] is True
        assert client.get("/status").status_code == 200


def test_exit_in_user_code_restarts_the_interpreter(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        _execute(client, session, "kept = 1")
        body = _execute(client, session, "import os\nos._exit(1)")
        assert body["success"] is False
        assert "restarted" in str(body["errorMessage"])
        after = _execute(client, session, "v = 2 + 3", outputParameters=["v", "kept"])
        assert after["success"] is True
        assert after["outputParameters"] == [
            {"name": "v", "value": 5},
            {"name": "kept", "value": None},
        ]


def test_cancel_interrupts_an_endless_loop(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        result: dict[str, object] = {}

        def run() -> None:
            with server.client(admin_token) as runner:
                result.update(_execute(runner, session, "while True:\n    pass"))

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 30
        while thread.is_alive() and time.monotonic() < deadline:
            assert client.post(f"/sessions/{session}/cancel").status_code == 200
            thread.join(timeout=0.5)
        assert not thread.is_alive()
        assert result["success"] is False
        assert "interrupt" in str(result["errorMessage"]).lower()
        assert _execute(client, session, "ok = True", outputParameters=["ok"])["success"]


def test_deadline_kills_an_endless_loop(start_server: object) -> None:
    server = start_server(O16N_EXECUTE_TIMEOUT_SECONDS="2")  # type: ignore[operator]
    with server.client(server.token()) as client:
        session = _session(client)
        started = time.monotonic()
        body = _execute(client, session, "while True:\n    pass")
        assert time.monotonic() - started < 30
        assert body["success"] is False
        assert "deadline" in str(body["errorMessage"]) or "timed out" in str(body["errorMessage"])
        assert _execute(client, session, "a = 1", outputParameters=["a"])["success"] is True


def test_memory_bomb_is_stopped_by_the_limit(start_server: object) -> None:
    server = start_server(O16N_WORKER_MEMORY_BYTES=str(2 * 2**30))  # type: ignore[operator]
    with server.client(server.token()) as client:
        session = _session(client)
        body = _execute(client, session, "hog = bytearray(6 * 2**30)")
        assert body["success"] is False
        assert "MemoryError" in str(body["errorMessage"])
        assert _execute(client, session, "b = 2", outputParameters=["b"])["success"] is True


def test_unencodable_output_names_the_output(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        body = _execute(client, session, "thing = object()", outputParameters=["thing"])
        assert body["success"] is False
        assert "thing" in str(body["errorMessage"])


def test_numpy_and_pandas_outputs_are_json(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        code = (
            "import numpy as np, pandas as pd\n"
            "arr = np.arange(4).reshape(2, 2)\nscalar = np.float64(2.5)\n"
            "frame = pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})\nseries = frame['a']\n"
            "nan = float('nan')"
        )
        body = _execute(
            client, session, code, outputParameters=["arr", "scalar", "frame", "series", "nan"]
        )
    assert body["success"] is True, body["errorMessage"]
    assert body["outputParameters"] == [
        {"name": "arr", "value": [[0, 1], [2, 3]]},
        {"name": "scalar", "value": 2.5},
        {"name": "frame", "value": {"a": [1, 2], "b": ["x", "y"]}},
        {"name": "series", "value": [1, 2]},
        {"name": "nan", "value": None},
    ]


def test_bad_requests_name_the_field(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        response = client.post("/sessions", json={"runtimeType": "R"})
        assert response.status_code == 400
        assert response.json()["field"] == "runtimeType"
        session = _session(client)
        response = client.post(f"/sessions/{session}/execute", json={"inputParameters": []})
        assert response.status_code == 400
        assert response.json()["field"] == "code"
        response = client.post(
            f"/sessions/{session}/execute",
            json={"code": "", "inputParameters": [{"name": "not valid", "value": 1}]},
        )
        assert response.status_code == 400
        assert response.json()["field"] == "inputParameters[0].name"
        for name in ("", "not valid", "class", "x" * 257):
            body = {"code": "x = 1", "outputParameters": ["x", name]}
            response = client.post(f"/sessions/{session}/execute", json=body)
            assert_error(response, 400, "outputParameters[1]")
        longest = "x" * 256
        done = _execute(client, session, f"{longest} = 1", outputParameters=[longest])
        assert done["outputParameters"] == [{"name": longest, "value": 1}]
        assert client.post("/sessions/no-such-id/execute", json={"code": ""}).status_code == 404


def test_runtime_type_defaults_to_python_and_close(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        response = client.post("/sessions", json={})
        assert response.status_code == 201
        session = response.json()["sessionId"]
        listed = {item["id"]: item for item in client.get("/sessions").json()}
        assert listed[session]["runtimeType"] == "Python"
        assert listed[session]["owner"] == "admin"
        assert client.delete(f"/sessions/{session}").status_code == 200
        assert client.post(f"/sessions/{session}/execute", json={"code": ""}).status_code == 404
        forced = client.post("/sessions", json={}).json()["sessionId"]
        assert client.delete(f"/sessions/{forced}/force").status_code == 200
        assert session not in {item["id"] for item in client.get("/sessions").json()}


def test_idle_sessions_are_closed(start_server: object) -> None:
    server = start_server(O16N_SESSION_IDLE_SECONDS="1")  # type: ignore[operator]
    with server.client(server.token()) as client:
        session = _session(client)
        deadline = time.monotonic() + 30
        listed = True
        while listed and time.monotonic() < deadline:
            time.sleep(0.2)
            listed = session in {item["id"] for item in client.get("/sessions").json()}
        assert not listed
        assert client.post(f"/sessions/{session}/execute", json={"code": ""}).status_code == 404
