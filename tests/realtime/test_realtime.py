"""Realtime services over HTTP: publish an ONNX model, consume it, patch, delete (§10)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.harness import Server, assert_error
from tests.realtime.conftest import Iris

ONNX = "application/octet-stream"
_JSON = {"content-type": "application/json"}


def publish(
    client: httpx.Client, name: str, version: str | None, model: bytes, **fields: str
) -> httpx.Response:
    """POST /realtime-services/{name}[/{version}] with the model as file part `model`."""
    path = f"/realtime-services/{name}" + (f"/{version}" if version is not None else "")
    return client.post(path, files={"model": ("model.onnx", model, ONNX)}, data=fields)


def consume(client: httpx.Client, name: str, version: str, frame: object) -> httpx.Response:
    """POST /api/{name}/{version} with `frame` as inputData."""
    return client.post(f"/api/{name}/{version}", json={"inputData": frame})


def test_iris_predictions_equal_scikit_learn(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    name = new_name("Iris")
    with server.client(admin_token) as client:
        created = publish(client, name, "1.0", iris.onnx, description="iris SVC")
        assert created.status_code == 201, created.text
        assert created.json() == "1.0"
        answer = consume(client, name, "1.0", iris.frame(range(150)))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["success"] is True
        assert body["errorMessage"] == "" and body["consoleOutput"] == ""
        assert body["changedFiles"] == [] and body["outputFiles"] == {}
        output = body["outputParameters"]["outputData"]
        assert output["label"] == iris.expected
        assert len(output["probabilities"]) == 150 and len(output["probabilities"][0]) == 3


def test_rows_may_come_as_a_list_of_objects(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    name = new_name("IrisRows")
    rows = [dict(zip(iris.columns, map(float, iris.features[i]), strict=True)) for i in (0, 70)]
    with server.client(admin_token) as client:
        assert publish(client, name, "v1", iris.onnx).status_code == 201
        answer = consume(client, name, "v1", rows)
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputParameters"]["outputData"]["label"] == [
            iris.expected[0],
            iris.expected[70],
        ]


def test_realtime_versions_are_listed_as_services(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    name = new_name("IrisList")
    with server.client(admin_token) as client:
        generated = publish(client, name, None, iris.onnx, operationId="predictIris")
        assert generated.status_code == 201, generated.text
        version = generated.json()
        (info,) = client.get(f"/services/{name}/{version}").json()
        assert (info["runtimeType"], info["serviceType"]) == ("Realtime", "Realtime")
        assert info["code"] == "" and info["initCode"] == ""
        assert info["snapshotId"] == ""
        assert info["operationId"] == "predictIris"
        assert info["inputParameterDefinitions"] == [{"name": "inputData", "type": "data.frame"}]
        assert info["outputParameterDefinitions"] == [{"name": "outputData", "type": "data.frame"}]
        assert info["maxBatchSize"] == 64 and info["maxBatchWaitMs"] == 0
        assert [item["version"] for item in client.get(f"/services/{name}").json()] == [version]
        swagger = client.get(f"/api/{name}/{version}/swagger.json").json()
        assert swagger["paths"][f"/api/{name}/{version}"]["post"]["operationId"] == "predictIris"
        assert swagger["definitions"]["InputParameters"]["properties"] == {
            "inputData": {"type": "object", "description": "data.frame"}
        }


def test_a_corrupt_model_is_refused_with_the_parsers_reason(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("Corrupt")
    with server.client(admin_token) as client:
        body = assert_error(publish(client, name, "1", b"not an onnx model"), 400, "model")
        assert "not a valid ONNX model" in str(body["message"])
        assert "protobuf" in str(body["message"]).lower()
        assert client.get(f"/services/{name}").json() == []
        missing = client.post(f"/realtime-services/{name}/1", data={"description": "x"})
        assert_error(missing, 400, "model")


def test_bad_input_names_the_column(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    name = new_name("IrisBad")
    with server.client(admin_token) as client:
        assert publish(client, name, "1", iris.onnx).status_code == 201
        frame: dict[str, object] = iris.frame([0, 1])
        frame["petal_width"] = ["wide", 0.2]
        assert_error(consume(client, name, "1", frame), 400, "inputData.petal_width")
        frame = dict(iris.frame([0]))
        frame["sepal_length"] = [[5.1, 5.2]]
        assert_error(consume(client, name, "1", frame), 400, "inputData.sepal_length")
        frame = dict(iris.frame([0]))
        frame["extra"] = [1.0]
        assert_error(consume(client, name, "1", frame), 400, "inputData")
        assert_error(client.post(f"/api/{name}/1", json={"other": {}}), 400, "inputData")
        assert consume(client, name, "1", iris.frame([0])).status_code == 200


def test_patch_swaps_the_model_and_description(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    from sklearn.tree import DecisionTreeClassifier

    from o16n.client.realtime import onnx_model

    reversed_labels = [2 - label for label in iris.expected]
    swapped = DecisionTreeClassifier(random_state=0).fit(iris.features, reversed_labels)
    name = new_name("IrisPatch")
    with server.client(admin_token) as client:
        assert publish(client, name, "1", iris.onnx).status_code == 201
        assert consume(client, name, "1", iris.frame([0])).json()["outputParameters"]["outputData"][
            "label"
        ] == [0]
        files = {"model": ("m.onnx", onnx_model(swapped), ONNX)}
        fields = {"description": "labels reversed", "maxBatchSize": "1"}
        patched = client.patch(f"/realtime-services/{name}/1", files=files, data=fields)
        assert patched.status_code == 200, patched.text
        assert patched.json() == "1"
        answer = consume(client, name, "1", iris.frame([0]))
        assert answer.json()["outputParameters"]["outputData"]["label"] == [2]
        (info,) = client.get(f"/services/{name}/1").json()
        assert info["description"] == "labels reversed"
        assert info["maxBatchSize"] == 1 and info["revision"] == 2
        only = client.patch(f"/realtime-services/{name}/1", data={"maxBatchWaitMs": "0.5"})
        assert only.status_code == 200, only.text
        (info,) = client.get(f"/services/{name}/1").json()
        assert info["maxBatchWaitMs"] == 0.5 and info["description"] == "labels reversed"
        assert_error(
            client.patch(f"/realtime-services/{name}/1", data={"maxBatchSize": "0"}),
            400,
            "maxBatchSize",
        )
        assert_error(
            client.patch(f"/realtime-services/{name}/1", data={"maxBatchSize": "many"}),
            400,
            "maxBatchSize",
        )


def test_kinds_are_not_mixed(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    name = new_name("Kinds")
    with server.client(admin_token) as client:
        assert publish(client, name, "rt", iris.onnx).status_code == 201
        python = client.post(
            f"/services/{name}/py", json={"code": "y = 1", "runtimeType": "Python"}
        )
        assert python.status_code == 201, python.text
        kinds = {
            item["version"]: item["serviceType"] for item in client.get(f"/services/{name}").json()
        }
        assert kinds == {"rt": "Realtime", "py": "Standard"}
        assert_error(client.patch(f"/services/{name}/rt", json={"description": "x"}), 409)
        assert_error(client.patch(f"/realtime-services/{name}/py", data={"description": "x"}), 409)
        assert_error(publish(client, name, "rt", iris.onnx), 409)
        pool = client.post(f"/services/{name}/rt/pool", json={"MaxPoolSize": 1})
        assert_error(pool, 409)


def test_delete_frees_the_version(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    name = new_name("IrisDelete")
    blobs = server.data_dir / "blobs"
    before = {path.name for path in blobs.rglob("*") if path.is_file()}
    with server.client(admin_token) as client:
        assert publish(client, name, "1", iris.onnx).status_code == 201
        assert consume(client, name, "1", iris.frame([0])).status_code == 200
        assert {path.name for path in blobs.rglob("*") if path.is_file()} - before
        assert client.delete(f"/services/{name}/1").status_code == 200
        assert_error(consume(client, name, "1", iris.frame([0])), 404)
    assert {path.name for path in blobs.rglob("*") if path.is_file()} <= before


def test_the_consume_lane_keeps_auth_and_the_error_shape(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    name = new_name("IrisAuth")
    body = {"inputData": iris.frame([0])}
    with server.client(admin_token) as client:
        assert publish(client, name, "1", iris.onnx).status_code == 201
        answer = client.post(f"/api/{name}/1", json=body)
        assert answer.status_code == 200 and len(answer.headers["x-request-id"]) == 32
        wrong_type = client.post(f"/api/{name}/1", content=b"{}", headers={"content-type": "x/y"})
        assert_error(wrong_type, 415)
        assert_error(client.post(f"/api/{name}/1", content=b"{", headers=_JSON), 400)
    with server.client() as anonymous:
        assert_error(anonymous.post(f"/api/{name}/1", json=body), 401)
    with server.client("not-a-token") as forged:
        assert_error(forged.post(f"/api/{name}/1", json=body), 401)
