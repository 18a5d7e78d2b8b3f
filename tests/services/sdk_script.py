"""Run by test_azureml_sdk.py with the SDK's own interpreter: Microsoft's client against o16n.

Usage: python sdk_script.py URL USER PASSWORD NAME. Prints one JSON summary line at the end.
This file never imports o16n or the tests: it sees the server only through the SDK.
Service functions live at module level because the SDK sends `inspect.getsource` of them.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import azureml.deploy.server.service as service_module
import numpy as np
import pandas as pd
from sklearn import datasets, svm


def function_beget(fn, fn_name, fn_args, doc=""):  # type: ignore[no-untyped-def]
    """Reference §21's shim: build the consume method from source (3.8+ CodeType changed)."""
    del fn
    names = [name for name in fn_args if name != "self"]
    params = "".join(f", {name}" for name in names)
    members = ", ".join(f"{name!r}: {name}" for name in names)
    source = f"def {fn_name}(self{params}):\n    return self._consume({{{members}}})\n"
    namespace: dict[str, object] = {}
    exec(source, namespace)
    built = namespace[fn_name]
    built.__doc__ = doc  # type: ignore[attr-defined]
    return built


service_module.function_beget = function_beget

from azureml.deploy import DeployClient  # noqa: E402
from azureml.deploy.server import MLServer  # noqa: E402


def init():  # type: ignore[no-untyped-def]
    global offset  # noqa: PLW0603 - init code sets service globals
    offset = 100


def score(count, ratio, label, flag, flower, grid, frame):  # type: ignore[no-untyped-def]  # noqa: PLR0917
    global ratio_out, label_out, flag_out, doubled, grid_t, frame_out, species, kinds  # noqa: PLW0603
    import numpy
    import pandas

    kinds = [
        type(count) is int,
        type(ratio) is float,
        type(label) is str,
        type(flag) is bool,
        isinstance(flower, numpy.ndarray),
        isinstance(grid, numpy.matrix),
        isinstance(frame, pandas.DataFrame),
    ]
    with open("report.txt", "w") as handle:
        handle.write(f"{label}:{count}")
    ratio_out = ratio * 2
    label_out = label.upper()
    flag_out = not flag
    doubled = flower * 2
    grid_t = grid.T
    frame_out = frame.assign(total=frame["a"] + frame["b"])
    row = numpy.array(flower).reshape(1, -1)
    species = str(names[int(model.predict(row)[0])])  # noqa: F821 - snapshot objects
    return count + offset


def call(service, flower):  # type: ignore[no-untyped-def]
    """Consume through the generated method; the outputs as JSON-friendly values."""
    response = service.score(
        3,
        0.25,
        "hi",
        True,
        np.array(flower),
        np.matrix([[1, 2], [3, 4]]),
        pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]}),
    )
    outputs = response.outputs
    return {
        "error": response.error,
        "total": outputs["total"],
        "ratio_out": outputs["ratio_out"],
        "label_out": outputs["label_out"],
        "flag_out": outputs["flag_out"],
        "doubled": outputs["doubled"].tolist(),
        "doubled_type": type(outputs["doubled"]).__name__,
        "grid_t": outputs["grid_t"].tolist(),
        "grid_type": type(outputs["grid_t"]).__name__,
        "frame_out": {
            str(column): [getattr(value, "item", lambda v=value: v)() for value in values]
            for column, values in outputs["frame_out"].to_dict("list").items()
        },
        "species": outputs["species"],
        "kinds": outputs["kinds"].tolist(),
        "report": response.artifact("report.txt").decode(),
    }


def run_batch(service, flower):  # type: ignore[no-untyped-def]
    """The SDK's batch flow: start, poll results, artifacts, download, list, cancel."""
    records = [
        {
            "count": count,
            "ratio": 0.5,
            "label": label,
            "flag": False,
            "flower": flower,
            "grid": [[1, 2], [3, 4]],
            "frame": {"a": [1], "b": [2.5]},
        }
        for count, label in ((1, "a"), (2, "b"), (3, "c"))
    ]
    batch = service.batch(records, parallel_count=2).start()
    for _ in range(1200):
        response = batch.results()
        if response.state in ("Complete", "Failed"):
            break
        time.sleep(0.1)
    executions = [response.execution(i) for i in range(response.total_item_count)]
    hidden = batch.results(show_partial_results=False)
    destination = tempfile.mkdtemp()
    [path] = batch.download(1, "report.txt", destination=destination)
    with open(path) as handle:
        downloaded = handle.read()
    summary = {
        "state": response.state,
        "counts": [response.completed_item_count, response.total_item_count],
        "totals": [execution.outputs["total"] for execution in executions],
        "species": [execution.outputs["species"] for execution in executions],
        "errors": [execution.error for execution in executions],
        "artifact_in_result": executions[2].artifact("report.txt").decode(),
        "artifact": batch.artifact(0, "report.txt").decode(),
        "list_artifacts": batch.list_artifacts(0),
        "downloaded": [os.path.basename(path), downloaded],
        "hidden_state": hidden.state,
        "listed": batch.execution_id in service.list_batch_executions(),
        "again": service.get_batch(batch.execution_id).results().completed_item_count,
    }
    batch.cancel()
    summary["after_cancel"] = batch.execution_id in service.list_batch_executions()
    return summary


def main() -> None:
    url, user, password, name = sys.argv[1:5]
    iris = datasets.load_iris()
    model = svm.SVC().fit(iris.data, iris.target)
    flower = [6.3, 3.3, 6.0, 2.5]
    summary: dict[str, object] = {
        "expected_species": str(iris.target_names[model.predict(np.array([flower]))[0]])
    }
    client = DeployClient(url, use=MLServer, auth=(user, password))

    service = (
        client.service(name)
        .version("v1.0.0")
        .description("Every type through the SDK")
        .code_fn(score, init)
        .inputs(
            count=int,
            ratio=float,
            label=str,
            flag=bool,
            flower=np.array,
            grid=np.matrix,
            frame=pd.DataFrame,
        )
        .outputs(
            total=int,
            ratio_out=float,
            label_out=str,
            flag_out=bool,
            doubled=np.array,
            grid_t=np.matrix,
            frame_out=pd.DataFrame,
            species=str,
            kinds=np.array,
        )
        .models(model=model)
        .objects(names=list(iris.target_names))
        .artifacts(["report.txt"])
        .deploy()
    )
    summary["deployed"] = call(service, flower)
    summary["capabilities"] = {
        key: service.capabilities()[key]
        for key in ("name", "version", "operation_id", "published_by", "snapshot_id", "runtime")
    }
    summary["got"] = call(client.get_service(name, version="v1.0.0"), flower)
    summary["batch"] = run_batch(service, flower)
    summary["latest_version"] = client.get_service(name).capabilities()["version"]
    summary["all_names"] = sorted({item["name"] for item in client.list_services()})
    summary["by_name"] = [item["version"] for item in client.list_services(name)]
    summary["by_version"] = [
        (item["name"], item["version"], item["description"], item["code"] is not None)
        for item in client.list_services(name, version="v1.0.0")
    ]
    swagger = json.loads(service.swagger())
    operation = swagger["paths"][f"/api/{name}/v1.0.0"]["post"]
    summary["swagger"] = {
        "operation_id": operation["operationId"],
        "inputs": list(swagger["definitions"]["InputParameters"]["properties"]),
        "outputs": list(swagger["definitions"]["OutputParameters"]["properties"]),
    }

    redeployed = client.redeploy_service(name, version="v1.0.0", description="Redeployed")
    summary["redeployed"] = call(redeployed, flower)
    [after] = client.list_services(name, version="v1.0.0")
    summary["redeployed_description"] = after["description"]

    quick = client.service(f"{name}_quick").code_str("y = x + 1").inputs(x=int).outputs(y=int)
    unversioned = quick.deploy()
    quick_version = unversioned.capabilities()["version"]
    summary["quick"] = unversioned.consume(41).output("y")
    summary["quick_listed"] = [item["version"] for item in client.list_services(f"{name}_quick")]
    summary["quick_version"] = quick_version

    summary["deleted"] = [
        client.delete_service(name, version="v1.0.0"),
        client.delete_service(f"{name}_quick", version=quick_version),
    ]
    summary["after_delete"] = client.list_services(name)
    try:
        client.get_service(name, version="v1.0.0")
        summary["get_after_delete"] = "found"
    except Exception as error:
        summary["get_after_delete"] = type(error).__name__
    print("SUMMARY " + json.dumps(summary))


if __name__ == "__main__":
    main()
