"""Managing web services: validation, versions, patches, files, namespaces, init code, errors,
roles and ownership, dedicated pools, crashed and hung workers, restarts."""

from __future__ import annotations

import base64
import re
import signal
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.harness import Server, assert_error, unique_name
from tests.services.publishing import (
    WEB_SERVICE_MEMBERS,
    WIRE_TIMESTAMP,
    consume,
    consume_response,
    metadata,
    outputs,
    params,
    publish,
    published,
    snapshot_of,
    version_list,
)

PASSWORD = "Svc-Pass-12345"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
ADD_ONE = {
    "inputParameterDefinitions": params(x="integer"),
    "outputParameterDefinitions": params(y="integer"),
}


def _user(server: Server, role: str) -> str:
    """A new account with `role`; its access token."""
    name = unique_name(role.lower())
    result = server.cli("users", "add", name, "--role", role, "--password", PASSWORD)
    assert result.returncode == 0, result.stderr
    return server.token(name, PASSWORD)


def _patched(client: httpx.Client, name: str, version: str, **members: object) -> None:
    response = client.patch(f"/services/{name}/{version}", json=members)
    assert response.status_code == 200, response.text
    assert response.json() == version


# -- publish validation -------------------------------------------------------------------


def test_publish_validation_names_the_field(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("Checks")
    with server.client(admin_token) as client:
        response = client.post(f"/services/{name}/1", json={"runtimeType": "Python"})
        assert_error(response, 400, "code")
        assert_error(publish(client, name, "1", ""), 400, "code")
        for bad in ("a b", "a%3Fb", "a%01b", "a%3Cb%3E"):
            assert_error(publish(client, bad, "1", "y = 1"), 400, "name")
            assert_error(publish(client, name, bad, "y = 1"), 400, "version")
        unknown_type = publish(
            client, name, "1", "y = 1", inputParameterDefinitions=params(x="float")
        )
        assert_error(unknown_type, 400, "inputParameterDefinitions[0].type")
        unknown_output = publish(
            client, name, "1", "y = 1", outputParameterDefinitions=params(y="integer", z="blob")
        )
        assert_error(unknown_output, 400, "outputParameterDefinitions[1].type")
        not_identifier = publish(
            client, name, "1", "y = 1", inputParameterDefinitions=params(**{"not valid": "integer"})
        )
        assert_error(not_identifier, 400, "inputParameterDefinitions[0].name")
        r_runtime = publish(client, name, "1", "y = 1", runtimeType="R")
        error = assert_error(r_runtime, 400, "runtimeType")
        assert "not supported" in str(error["message"]).lower(), error
        unknown_snapshot = publish(client, name, "1", "y = 1", snapshotId=str(uuid.uuid4()))
        assert unknown_snapshot.status_code in {400, 404}, unknown_snapshot.text
        assert_error(unknown_snapshot, unknown_snapshot.status_code)
        assert version_list(client, name) == [], "nothing refused was published"

        response = client.post(f"/services/{name}/1", json={"code": "y = 1"})
        assert response.status_code == 201, response.text
        assert metadata(client, name, "1")["runtimeType"] == "Python"


def test_slash_and_empty_names_publish_nothing(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    """A "/" in a name or an empty name or version cannot reach the publish routes.

    They arrive as other paths ("a%2Fb" is decoded to two segments), so the router answers;
    it must refuse them outright: a redirect of `POST /services/X/` to `POST /services/X`
    would make a client that follows it (requests does, for 307) publish a GUID version.
    """
    name = new_name("Slashes")
    with server.client(admin_token) as client:
        for path in (f"/services/{name}%2Fx/1", "/services//1", f"/services/{name}/"):
            response = client.post(path, json={"code": "y = 1", "runtimeType": "Python"})
            assert response.status_code in {400, 404, 405}, (path, response.status_code)
            assert_error(response, response.status_code)
        assert version_list(client, name) == []


def test_foreign_snapshot_is_refused(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("Foreign")
    with server.client(admin_token) as admin, server.client(_user(server, "Contributor")) as other:
        snapshot = snapshot_of(admin, "secret = 'admin only'")
        response = publish(
            other,
            name,
            "1",
            "leak = secret",
            snapshotId=snapshot,
            outputParameterDefinitions=params(leak="character"),
        )
        assert response.status_code in {400, 404}, response.text
        assert_error(response, response.status_code)
        assert version_list(admin, name) == []


def test_duplicate_version_is_a_conflict(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("Twice")
    with server.client(admin_token) as client:
        published(client, name, "v1.0.0-alpha", "y = x + 1", **ADD_ONE)
        again = publish(client, name, "v1.0.0-alpha", "y = x + 2", **ADD_ONE)
        assert_error(again, 409)
        assert metadata(client, name, "v1.0.0-alpha")["code"] == "y = x + 1"
        assert outputs(client, name, "v1.0.0-alpha", {"x": 1}) == {"y": 2}
        assert version_list(client, name) == ["v1.0.0-alpha"]


def test_unversioned_publish_returns_the_version_and_lists_it_last(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("Latest")
    with server.client(admin_token) as client:
        published(client, name, "2.0", "y = x + 2", **ADD_ONE)
        response = publish(client, name, None, "y = x + 3", **ADD_ONE)
        assert response.status_code == 201, response.text
        generated = response.json()
        assert isinstance(generated, str) and GUID.match(generated), generated
        published(client, name, "1.0", "y = x + 1", **ADD_ONE)
        second = publish(client, name, None, "y = x + 4", **ADD_ONE).json()
        assert second != generated
        assert version_list(client, name) == ["2.0", generated, "1.0", second]
        assert metadata(client, name, generated)["version"] == generated
        assert outputs(client, name, generated, {"x": 1}) == {"y": 4}
        assert outputs(client, name, second, {"x": 1}) == {"y": 5}
        swagger = client.get(f"/api/{name}/{second}/swagger.json").json()
        assert f"/api/{name}/{second}" in swagger["paths"]


def test_listing_shapes_and_unknown_services(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    first, second = new_name("ListA"), new_name("ListB")
    with server.client(admin_token) as client:
        published(client, first, "1", "y = x + 1", **ADD_ONE)
        published(
            client,
            second,
            "1",
            "z = 1",
            description="second",
            operationId="makeOne",
            outputParameterDefinitions=params(z="integer"),
            outputFileNames=["a.txt"],
        )
        everything = client.get("/services")
        assert everything.status_code == 200
        mine = {s["name"]: s for s in everything.json() if s["name"] in {first, second}}
        assert set(mine) == {first, second}
        for service in mine.values():
            assert set(service) >= WEB_SERVICE_MEMBERS, service
            assert WIRE_TIMESTAMP.match(service["creationTime"]), service["creationTime"]
            assert service["versionPublishedBy"] == "admin"
            assert service["myPermissionOnService"] == "read/write"
            assert isinstance(service["inputParameterDefinitions"], list)
            assert isinstance(service["outputParameterDefinitions"], list)
            assert isinstance(service["outputFileNames"], list)
        assert mine[first]["description"] == ""
        assert "operationId" not in mine[first], "absent: Microsoft's SDK calls it consume"
        assert mine[first]["snapshotId"] == ""
        assert mine[first]["outputFileNames"] == []
        assert mine[second]["inputParameterDefinitions"] == []
        assert mine[second]["operationId"] == "makeOne"
        assert mine[second]["outputFileNames"] == ["a.txt"]
        by_name = client.get(f"/services/{second}").json()
        assert by_name == [mine[second]]
        assert metadata(client, second, "1") == mine[second]
        swagger = client.get(f"/api/{second}/1/swagger.json").json()
        assert swagger["paths"][f"/api/{second}/1"]["post"]["operationId"] == "makeOne"

        ghost = new_name("Ghost")
        assert client.get(f"/services/{ghost}").json() == []
        assert_error(client.get(f"/services/{ghost}/1"), 404)
        assert_error(client.get(f"/services/{first}/2"), 404)
        assert_error(consume_response(client, ghost, "1", {}), 404)
        assert_error(client.get(f"/api/{ghost}/1/swagger.json"), 404)
        assert_error(client.patch(f"/services/{ghost}/1", json={"description": "x"}), 404)
        assert_error(client.delete(f"/services/{ghost}/1"), 404)
    with server.client() as anonymous:
        assert_error(anonymous.get("/services"), 401)
        assert_error(anonymous.get(f"/services/{first}/1"), 401)
        assert_error(consume_response(anonymous, first, "1", {"x": 1}), 401)
        assert_error(anonymous.get(f"/api/{first}/1/swagger.json"), 401)
        assert_error(publish(anonymous, new_name("Anonymous"), "1", "y = 1"), 401)


# -- patch ----------------------------------------------------------------------------------


def test_patch_changes_only_what_it_is_given(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name, version = new_name("Patched"), "v1"
    with server.client(admin_token) as client:
        first = snapshot_of(client, "base = 1\nshared = 'A'\nopen('a.txt', 'w').write('A')")
        published(client, name, version, "y = x + base", snapshotId=first, **ADD_ONE)
        original = metadata(client, name, version)
        assert outputs(client, name, version, {"x": 1}) == {"y": 2}

        _patched(client, name, version, code="y = x * 10 + base")
        assert outputs(client, name, version, {"x": 1}) == {"y": 11}

        _patched(client, name, version, initCode="offset = 1000", runtimeType="Python")
        _patched(client, name, version, code="y = x + offset")
        assert outputs(client, name, version, {"x": 1}) == {"y": 1001}

        _patched(
            client,
            name,
            version,
            code="w = z / 2",
            inputParameterDefinitions=params(z="numeric"),
            outputParameterDefinitions=params(w="numeric"),
        )
        assert outputs(client, name, version, {"z": 5}) == {"w": 2.5}
        assert_error(consume_response(client, name, version, {"x": 1}), 400)

        _patched(
            client,
            name,
            version,
            code="open('out.txt', 'w').write(str(z))\nw = z",
            outputFileNames=["out.txt"],
        )
        result = consume(client, name, version, {"z": 3.5})
        assert result["outputFiles"] == {"out.txt": base64.b64encode(b"3.5").decode()}

        _patched(client, name, version, description="now described")
        _patched(client, name, version, operationId="halve")
        swagger = client.get(f"/api/{name}/{version}/swagger.json").json()
        assert swagger["paths"][f"/api/{name}/{version}"]["post"]["operationId"] == "halve"
        assert swagger["info"]["description"] == "now described"

        second = snapshot_of(client, "extra = 2\nshared = 'B'\nopen('b.txt', 'w').write('B')")
        _patched(
            client,
            name,
            version,
            snapshotId=second,
            code="seen = [base, extra, shared, open('a.txt').read(), open('b.txt').read()]",
            outputParameterDefinitions=params(seen="vector"),
        )
        assert outputs(client, name, version, {"z": 0}) == {"seen": [1, 2, "B", "A", "B"]}

        final = metadata(client, name, version)
        assert final["snapshotId"] == second
        assert final["initCode"] == "offset = 1000"
        assert final["description"] == "now described"
        assert final["operationId"] == "halve"
        assert final["outputFileNames"] == ["out.txt"]
        assert final["inputParameterDefinitions"] == params(z="numeric")
        assert final["creationTime"] == original["creationTime"]
        assert final["versionPublishedBy"] == "admin"

        refused = [
            (
                {"inputParameterDefinitions": params(q="complex")},
                "inputParameterDefinitions[0].type",
            ),
            ({"runtimeType": "R"}, "runtimeType"),
            ({"code": ""}, "code"),
        ]
        for body, field in refused:
            assert_error(client.patch(f"/services/{name}/{version}", json=body), 400, field)
        missing_snapshot = client.patch(
            f"/services/{name}/{version}", json={"snapshotId": str(uuid.uuid4())}
        )
        assert missing_snapshot.status_code in {400, 404}, missing_snapshot.text
        assert metadata(client, name, version) == final
        assert outputs(client, name, version, {"z": 0}) == {"seen": [1, 2, "B", "A", "B"]}


# -- what a call sees --------------------------------------------------------------------------


def test_output_files_are_base64_or_null_and_never_left_over(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("Files")
    code = "if make:\n    open('out.csv', 'w').write('a,b\\n1,2\\n')\nnote = 'done'"
    with server.client(admin_token) as client:
        published(
            client,
            name,
            "1",
            code,
            inputParameterDefinitions=params(make="logical"),
            outputParameterDefinitions=params(note="character"),
            outputFileNames=["out.csv", "missing.png"],
        )
        made = consume(client, name, "1", {"make": True})
        assert made["success"] is True, made["errorMessage"]
        assert made["outputFiles"] == {
            "out.csv": base64.b64encode(b"a,b\n1,2\n").decode(),
            "missing.png": None,
        }
        assert "out.csv" in made["changedFiles"]  # type: ignore[operator]
        for _ in range(4):
            later = consume(client, name, "1", {"make": False})
            assert later["outputFiles"] == {"out.csv": None, "missing.png": None}, later
            assert later["outputParameters"] == {"note": "done"}


def test_every_call_starts_from_the_post_init_state(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("Fresh")
    code = (
        "previous = globals().get('leftover')\nleftover = x\nvalue = base\nif x < 0:\n    del base"
    )
    with server.client(admin_token) as client:
        published(
            client,
            name,
            "1",
            code,
            initCode="base = 7",
            inputParameterDefinitions=params(x="integer"),
            outputParameterDefinitions=params(previous="integer", value="integer"),
        )
        for x in (1, -1, 2, -2, 3, 4):
            assert outputs(client, name, "1", {"x": x}) == {"previous": None, "value": 7}
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda x: outputs(client, name, "1", {"x": x}), range(-20, 20)))
        assert answers == [{"previous": None, "value": 7}] * 40
        published(client, name, "2", "y = x * 2", **ADD_ONE)
        with ThreadPoolExecutor(max_workers=8) as pool:
            doubled = list(pool.map(lambda x: outputs(client, name, "2", {"x": x}), range(40)))
        assert doubled == [{"y": 2 * x} for x in range(40)], "every call gets its own answer"


def test_init_code_runs_once_per_interpreter(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name, marker = new_name("Init"), f"o16n_inits_{uuid.uuid4().hex}"
    init = (
        "import os, sys, time\n"
        f"sys.{marker} = getattr(sys, '{marker}', 0) + 1\n"
        "init_pid = os.getpid()\ninit_stamp = time.time_ns()\nprepared = 'first'\n"
    )
    code = f"pid = init_pid\nstamp = init_stamp\nruns = sys.{marker}\ncurrent = os.getpid()\n"
    outs = params(
        pid="integer", stamp="integer", runs="integer", current="integer", prepared="character"
    )
    with server.client(admin_token) as client:
        published(client, name, "1", code, initCode=init, outputParameterDefinitions=outs)
        calls = [outputs(client, name, "1", {}) for _ in range(6)]
        with ThreadPoolExecutor(max_workers=6) as pool:
            calls += list(pool.map(lambda _: outputs(client, name, "1", {}), range(12)))
        stamps: dict[object, set[object]] = defaultdict(set)
        for call in calls:
            assert call["pid"] == call["current"], "init ran in the interpreter that answers"
            assert call["runs"] == 1, f"init ran {call['runs']} times in one interpreter"
            assert call["prepared"] == "first"
            stamps[call["pid"]].add(call["stamp"])
        assert all(len(seen) == 1 for seen in stamps.values()), stamps

        _patched(client, name, "1", initCode=init.replace("'first'", "'second'"))
        again = [outputs(client, name, "1", {}) for _ in range(3)]
        assert {call["prepared"] for call in again} == {"second"}
        assert all(call["stamp"] not in stamps[call["pid"]] for call in again)


def test_code_errors_are_reported_with_success_false(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("Faulty")
    code = "if x < 0:\n    raise ValueError(f'negative input {x}')\nprint('ok', x)\ny = x"
    with server.client(admin_token) as client:
        published(client, name, "1", code, **ADD_ONE)
        failed = consume(client, name, "1", {"x": -5})
        assert failed["success"] is False
        assert "negative input -5" in str(failed["errorMessage"])
        assert "ValueError" in str(failed["errorMessage"])
        good = consume(client, name, "1", {"x": 3})
        assert good["success"] is True, good["errorMessage"]
        assert good["outputParameters"] == {"y": 3}
        assert good["consoleOutput"] == "ok 3\n"
        published(client, name, "2", "y = undefined_name + x", **ADD_ONE)
        missing = consume(client, name, "2", {"x": 1})
        assert missing["success"] is False
        assert "undefined_name" in str(missing["errorMessage"])
        assert outputs(client, name, "1", {"x": 4}) == {"y": 4}


# -- roles and ownership ---------------------------------------------------------------------


def test_roles_and_ownership(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name, bobs = new_name("Owned"), new_name("Bobs")
    with (
        server.client(admin_token) as admin,
        server.client(_user(server, "Contributor")) as alice,
        server.client(_user(server, "Contributor")) as bob,
        server.client(_user(server, "Reader")) as rita,
    ):
        snapshot = snapshot_of(alice, "k = 2")
        published(
            alice,
            name,
            "1",
            "y = x * k + offset",
            initCode="offset = 0",
            snapshotId=snapshot,
            description="alice's",
            **ADD_ONE,
        )
        for caller in (admin, alice, bob, rita):
            assert outputs(caller, name, "1", {"x": 5}) == {"y": 10}
            assert caller.get(f"/api/{name}/1/swagger.json").status_code == 200
            assert name in {s["name"] for s in caller.get("/services").json()}

        for caller, sees_code, permission in (
            (alice, True, "read/write"),
            (admin, True, "read/write"),
            (bob, False, "read only"),
            (rita, False, "read only"),
        ):
            service = metadata(caller, name, "1")
            [listed] = caller.get(f"/services/{name}").json()
            [among_all] = [s for s in caller.get("/services").json() if s["name"] == name]
            for view in (service, listed, among_all):
                assert view["myPermissionOnService"] == permission
                assert view["versionPublishedBy"] == service["versionPublishedBy"]
                assert view["snapshotId"] == snapshot
                if sees_code:
                    assert view["code"] == "y = x * k + offset"
                    assert view["initCode"] == "offset = 0"
                else:
                    assert view["code"] == "" and view["initCode"] == "", view

        assert_error(publish(rita, new_name("ByReader"), "1", "y = 1"), 403)
        assert_error(publish(rita, new_name("ByReader"), None, "y = 1"), 403)
        for intruder in (bob, rita):
            assert_error(intruder.patch(f"/services/{name}/1", json={"description": "x"}), 403)
            assert_error(intruder.delete(f"/services/{name}/1"), 403)
            assert_error(publish(intruder, name, "2", "y = 1"), 403)
            pool = {"InitialPoolSize": 1, "MaxPoolSize": 1}
            assert_error(intruder.post(f"/services/{name}/1/pool", json=pool), 403)
            assert_error(intruder.delete(f"/services/{name}/1/pool"), 403)
        assert version_list(admin, name) == ["1"]
        assert metadata(admin, name, "1")["description"] == "alice's"

        published(bob, bobs, "1", "y = x", **ADD_ONE)
        assert_error(alice.patch(f"/services/{bobs}/1", json={"description": "x"}), 403)
        published(alice, name, "2", "y = x", **ADD_ONE)
        _patched(alice, name, "1", description="alice again")
        _patched(admin, name, "1", description="owner's edit")
        published(admin, name, "3", "y = -x", **ADD_ONE)
        assert version_list(bob, name) == ["1", "2", "3"]
        assert_error(publish(bob, name, "4", "y = 1"), 403)
        assert metadata(alice, name, "3")["code"] == "", "admin's code is hidden from alice"
        assert metadata(alice, name, "3")["myPermissionOnService"] == "read only"
        assert_error(alice.delete(f"/services/{name}/3"), 403)
        assert alice.delete(f"/services/{name}/2").status_code == 200
        assert admin.delete(f"/services/{name}/1").status_code == 200
        assert admin.delete(f"/services/{bobs}/1").status_code == 200
        assert version_list(rita, name) == ["3"]


# -- dedicated pools --------------------------------------------------------------------------


def _pool_status(client: httpx.Client, name: str, version: str) -> str:
    response = client.get(f"/services/{name}/{version}/pool")
    assert response.status_code == 200, response.text
    entries = response.json()
    assert isinstance(entries, list) and len(entries) == 1, entries
    [entry] = entries
    assert set(entry) >= {"computeNodeEndpoint", "status"}, entry
    assert str(entry["computeNodeEndpoint"]).startswith("http"), entry
    assert entry["status"] in {"Success", "Pending", "NotFound"}, entry
    return str(entry["status"])


def _wait_pool(client: httpx.Client, name: str, version: str, wanted: str) -> None:
    deadline = time.monotonic() + 60
    status = _pool_status(client, name, version)
    while status != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
        status = _pool_status(client, name, version)
    assert status == wanted


def test_dedicated_pool_lifecycle(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("Pooled")
    with server.client(admin_token) as client:
        published(client, name, "1", "y = x + 1", **ADD_ONE)
        assert _pool_status(client, name, "1") == "NotFound"
        created = client.post(
            f"/services/{name}/1/pool", json={"InitialPoolSize": 1, "MaxPoolSize": 2}
        )
        assert created.status_code == 200, created.text
        created.json()
        _wait_pool(client, name, "1", "Success")
        assert outputs(client, name, "1", {"x": 1}) == {"y": 2}
        resized = client.post(
            f"/services/{name}/1/pool", json={"InitialPoolSize": 2, "MaxPoolSize": 3}
        )
        assert resized.status_code == 200, resized.text
        _wait_pool(client, name, "1", "Success")
        assert outputs(client, name, "1", {"x": 2}) == {"y": 3}

        for body, field in (
            ({"InitialPoolSize": 3, "MaxPoolSize": 2}, "InitialPoolSize"),
            ({"InitialPoolSize": -1, "MaxPoolSize": 2}, "InitialPoolSize"),
            ({"InitialPoolSize": 1, "MaxPoolSize": -2}, "MaxPoolSize"),
            ({"InitialPoolSize": "many", "MaxPoolSize": 2}, "InitialPoolSize"),
        ):
            assert_error(client.post(f"/services/{name}/1/pool", json=body), 400, field)
        ghost = new_name("NoPool")
        pool = {"InitialPoolSize": 1, "MaxPoolSize": 1}
        assert_error(client.post(f"/services/{ghost}/1/pool", json=pool), 404)
        assert_error(client.get(f"/services/{ghost}/1/pool"), 404)

        deleted = client.delete(f"/services/{name}/1/pool")
        assert deleted.status_code == 200, deleted.text
        _wait_pool(client, name, "1", "NotFound")
        assert outputs(client, name, "1", {"x": 3}) == {"y": 4}


def test_pool_sizes_past_the_bound_are_refused_at_once(
    start_server: Callable[..., Server],
) -> None:
    """A huge dedicated pool once had the event loop start workers without end: the server
    stopped answering anything, SIGTERM included."""
    server = start_server(O16N_POOL_MAX_SIZE="3")
    with server.client(server.token()) as client:
        published(client, "Huge", "1", "y = x + 1", **ADD_ONE)
        for body in (
            {"InitialPoolSize": 10**12, "MaxPoolSize": 10**12},
            {"InitialPoolSize": 1, "MaxPoolSize": 4},
            {"MaxPoolSize": 2**70},
        ):
            response = client.post("/services/Huge/1/pool", json=body, timeout=10)
            assert_error(response, 400, "MaxPoolSize")
        refusal = client.post("/services/Huge/1/pool", json={"MaxPoolSize": 4}).json()
        assert "between 0 and 3" in refusal["message"], refusal
        fits = client.post("/services/Huge/1/pool", json={"InitialPoolSize": 1, "MaxPoolSize": 3})
        assert fits.status_code == 200, fits.text
        assert client.get("/health", timeout=10).status_code == 200
    started = time.monotonic()
    server.stop()
    assert server.process is not None
    assert server.process.returncode in {0, -signal.SIGTERM}, "it had to be SIGKILLed"
    assert time.monotonic() - started < 15


# -- failures of the worker, restarts of the server ----------------------------------------------


FRAGILE = (
    "import os, time\n"
    "if mode == 'crash':\n    os._exit(1)\n"
    "if mode == 'hang':\n    time.sleep(3600)\n"
    "if mode == 'spin':\n    while True:\n        pass\n"
    "answer = mode\n"
)


def _worker_failure(client: httpx.Client, mode: str) -> float:
    """Call the fragile service in `mode`; it must fail with a 5xx error; the seconds it took."""
    started = time.monotonic()
    response = consume_response(client, "Fragile", "1", {"mode": mode})
    elapsed = time.monotonic() - started
    assert 500 <= response.status_code < 600, (mode, response.status_code, response.text)
    assert_error(response, response.status_code)
    return elapsed


def test_crashed_and_hung_workers_fail_only_their_call(start_server: Callable[..., Server]) -> None:
    server = start_server(O16N_SERVICE_TIMEOUT_SECONDS="2")
    with server.client(server.token()) as client:
        published(
            client,
            "Fragile",
            "1",
            FRAGILE,
            inputParameterDefinitions=params(mode="character"),
            outputParameterDefinitions=params(answer="character"),
        )
        published(client, "Healthy", "1", "y = x + 1", **ADD_ONE)

        def healthy(x: int) -> None:
            assert outputs(client, "Healthy", "1", {"x": x}) == {"y": x + 1}

        def fragile_ok() -> None:
            assert outputs(client, "Fragile", "1", {"mode": "ok"}) == {"answer": "ok"}

        healthy(1)
        fragile_ok()
        _worker_failure(client, "crash")
        healthy(2)
        fragile_ok()

        failures: list[float] = []
        hang = threading.Thread(target=lambda: failures.append(_worker_failure(client, "hang")))
        hang.start()
        time.sleep(0.3)
        for x in range(3):
            healthy(x)
        fragile_ok()
        hang.join(timeout=60)
        assert not hang.is_alive()
        assert len(failures) == 1 and 1.5 < failures[0] < 30, failures

        assert 1.5 < _worker_failure(client, "spin") < 30
        healthy(10)
        fragile_ok()
        _worker_failure(client, "crash")
        fragile_ok()
        healthy(11)

        with ThreadPoolExecutor(max_workers=8) as pool:
            crash = pool.submit(_worker_failure, client, "crash")
            others = [pool.submit(fragile_ok) for _ in range(12)]
            others += [pool.submit(healthy, x) for x in range(4)]
            crash.result()
            for other in others:
                other.result()
        fragile_ok()


def test_restart_keeps_services(start_server: Callable[..., Server]) -> None:
    first = start_server()
    with first.client(first.token()) as client:
        snapshot = snapshot_of(client, "factor = 3\nopen('unit.txt', 'w').write('cm')")
        published(
            client,
            "Kept",
            "1",
            "y = x * factor + bonus\nunit = open('unit.txt').read()",
            snapshotId=snapshot,
            initCode="bonus = 100",
            inputParameterDefinitions=params(x="integer"),
            outputParameterDefinitions=params(y="integer", unit="character"),
        )
        generated = publish(client, "Kept", None, "y = x - 1", **ADD_ONE).json()
        assert outputs(client, "Kept", "1", {"x": 2}) == {"y": 106, "unit": "cm"}
        assert outputs(client, "Kept", generated, {"x": 2}) == {"y": 1}
        assert client.delete(f"/snapshots/{snapshot}").status_code == 200
        listing = client.get("/services").json()
        swagger = client.get("/api/Kept/1/swagger.json").json()
    first.kill()

    second = start_server(data_dir=first.data_dir)
    with second.client(second.token()) as client:
        assert client.get("/services").json() == listing
        assert version_list(client, "Kept") == ["1", generated]
        assert client.get("/api/Kept/1/swagger.json").json() == swagger
        assert outputs(client, "Kept", "1", {"x": 2}) == {"y": 106, "unit": "cm"}
        assert outputs(client, "Kept", generated, {"x": 2}) == {"y": 1}
        _patched(client, "Kept", "1", code="y = x * factor\nunit = open('unit.txt').read()")
        assert outputs(client, "Kept", "1", {"x": 2}) == {"y": 6, "unit": "cm"}
        assert client.delete(f"/services/Kept/{generated}").status_code == 200
        assert version_list(client, "Kept") == ["1"]
