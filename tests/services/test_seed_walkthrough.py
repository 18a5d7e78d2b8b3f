"""The seed document's whole walkthrough, over raw HTTP: session → snapshot → publish → consume.

The seed's own scikit-learn call passes a 1-D row to `predict` (reference §19.15); the service
code here reshapes it, as a modern scikit-learn needs, and is otherwise the seed's service.
"""

from __future__ import annotations

import httpx
import numpy as np
from sklearn import datasets, svm

from tests.harness import ADMIN_PASSWORD, Server, assert_error
from tests.services.publishing import (
    WIRE_TIMESTAMP,
    consume,
    execute,
    metadata,
    open_session,
    take_snapshot,
    version_list,
)

SEED_IMPORTS = "import pandas as pd\nfrom sklearn import svm\nfrom sklearn import datasets\n"
SEED_TRAINING = "clf = svm.SVC()\niris = datasets.load_iris()\nclf.fit(iris.data, iris.target)\n"
SERVICE_CODE = (
    "import numpy as np\n"
    "result = iris.target_names[clf.predict(np.array(flower_data).reshape(1, -1))][0]\n"
)
ROWS = [[5.1, 3.5, 1.4, 0.2], [7, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]]
V1 = "V1.0"
V2 = "V2.0"


def _expected_species() -> list[str]:
    iris = datasets.load_iris()
    clf = svm.SVC().fit(iris.data, iris.target)
    return [str(iris.target_names[clf.predict(np.array([row]))][0]) for row in ROWS]


def _consume_rows(client: httpx.Client, name: str, version: str) -> list[object]:
    species = []
    for row in ROWS:
        result = consume(client, name, version, {"flower_data": row})
        assert result["success"] is True, result["errorMessage"]
        assert result["outputFiles"] == {}
        species.append(result["outputParameters"]["result"])  # type: ignore[index]
    return species


def _check_swagger(client: httpx.Client, name: str, version: str, description: str) -> None:
    response = client.get(f"/api/{name}/{version}/swagger.json")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["swagger"] == "2.0"
    assert document["info"] == {"description": description, "title": name, "version": version}
    assert document["securityDefinitions"]["Bearer"] == {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
    }
    operation = document["paths"][f"/api/{name}/{version}"]["post"]
    assert operation["operationId"] == "ConsumeWebService"
    assert operation["security"] == [{"Bearer": []}]
    assert operation["tags"] == [name]
    [body] = operation["parameters"]
    assert body["in"] == "body"
    assert body["schema"] == {"$ref": "#/definitions/InputParameters"}
    assert operation["responses"]["200"]["schema"] == {"$ref": "#/definitions/WebServiceResult"}
    assert "/login" in document["paths"]
    definitions = document["definitions"]
    flower = definitions["InputParameters"]["properties"]["flower_data"]
    assert flower["type"] == "array"
    assert flower["description"] == "vector"
    assert definitions["OutputParameters"]["properties"]["result"]["type"] == "string"
    result = definitions["WebServiceResult"]["properties"]
    assert set(result) >= {"success", "errorMessage", "consoleOutput", "changedFiles"}
    assert result["outputParameters"] == {"$ref": "#/definitions/OutputParameters"}
    assert result["outputFiles"]["type"] == "object"


def _session_with_model(client: httpx.Client) -> tuple[str, str]:
    """The seed's session steps; the session and its "Iris Snapshot"."""
    session = open_session(client, "Session 1")
    execute(client, session, SEED_IMPORTS)
    execute(client, session, SEED_TRAINING)
    snapshot = take_snapshot(client, session, "Iris Snapshot")
    listed = {item["id"]: item for item in client.get("/snapshots").json()}
    assert listed[snapshot]["name"] == "Iris Snapshot"
    return session, snapshot


def _publish(
    client: httpx.Client, version: str, snapshot: str, description: str, output_type: str
) -> None:
    response = client.post(
        f"/services/Iris/{version}",
        json={
            "snapshotId": snapshot,
            "code": SERVICE_CODE,
            "description": description,
            "inputParameterDefinitions": [{"name": "flower_data", "type": "vector"}],
            "outputParameterDefinitions": [{"name": "result", "type": output_type}],
            "runtimeType": "Python",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json() == version


def _check_v1(client: httpx.Client, snapshot: str, description: str) -> dict[str, object]:
    everything = client.get("/services")
    assert everything.status_code == 200
    assert ("Iris", V1) in {(s["name"], s["version"]) for s in everything.json()}
    service = metadata(client, "Iris", V1)
    assert service["name"] == "Iris" and service["version"] == V1
    assert service["versionPublishedBy"] == "admin"
    assert service["snapshotId"] == snapshot
    assert service["runtimeType"] == "Python"
    assert service["code"] == SERVICE_CODE
    assert service["description"] == description
    assert service["myPermissionOnService"] == "read/write"
    assert service["inputParameterDefinitions"] == [{"name": "flower_data", "type": "vector"}]
    assert service["outputParameterDefinitions"] == [{"name": "result", "type": "character"}]
    assert WIRE_TIMESTAMP.match(str(service["creationTime"])), service["creationTime"]
    _check_swagger(client, "Iris", V1, description)
    return service


def _patch_description(client: httpx.Client, original: dict[str, object], text: str) -> None:
    response = client.patch(
        f"/services/Iris/{V1}", json={"description": text, "runtimeType": "Python"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == V1
    patched = metadata(client, "Iris", V1)
    assert patched["description"] == text
    assert patched["code"] == SERVICE_CODE
    assert patched["snapshotId"] == original["snapshotId"]
    assert patched["creationTime"] == original["creationTime"]
    swagger = client.get(f"/api/Iris/{V1}/swagger.json").json()
    assert swagger["info"]["description"] == text


def test_seed_walkthrough(server: Server) -> None:
    expected = _expected_species()
    assert sorted(expected) == ["setosa", "versicolor", "virginica"], expected
    login = httpx.post(
        f"{server.url}/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert login.status_code == 200, login.text
    with server.client(login.json()["access_token"]) as client:
        for stale in client.get("/services/Iris").json():
            client.delete(f"/services/Iris/{stale['version']}")
        session, snapshot = _session_with_model(client)

        description = "Predicts the iris species of four measurements"
        _publish(client, V1, snapshot, description, "character")
        service = _check_v1(client, snapshot, description)
        assert session in service.values(), "lineage: the source session is recorded"
        assert _consume_rows(client, "Iris", V1) == expected

        _publish(client, V2, snapshot, "The seed's V2.0: output type 'string'", "string")
        assert version_list(client, "Iris") == [V1, V2]
        [output] = metadata(client, "Iris", V2)["outputParameterDefinitions"]  # type: ignore[misc]
        assert output["name"] == "result" and output["type"] in {"character", "string"}

        # The services keep their own copy of the snapshot's content.
        assert client.delete(f"/snapshots/{snapshot}").status_code == 200
        assert client.get(f"/snapshots/{snapshot}").status_code == 404
        assert client.delete(f"/sessions/{session}").status_code == 200
        assert _consume_rows(client, "Iris", V2) == expected
        assert metadata(client, "Iris", V2)["snapshotId"] == snapshot

        _patch_description(client, service, "Iris species (updated)")
        assert _consume_rows(client, "Iris", V1) == expected

        for version in (V1, V2):
            assert client.delete(f"/services/Iris/{version}").status_code == 200
            assert_error(client.get(f"/services/Iris/{version}"), 404)
            assert_error(client.post(f"/api/Iris/{version}", json={"flower_data": ROWS[0]}), 404)
            assert_error(client.get(f"/api/Iris/{version}/swagger.json"), 404)
        assert client.get("/services/Iris").json() == []
