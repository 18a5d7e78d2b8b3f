"""/computenodes with the local runtime: this machine is the one node; changes are refused."""

from __future__ import annotations

from tests.harness import Server, assert_error, unique_name

PASSWORD = "Nodes-Pass-1234"


def test_the_local_runtime_lists_this_machine_and_refuses_changes(
    server: Server, admin_token: str
) -> None:
    reader = unique_name("reader")
    added = server.cli("users", "add", reader, "--role", "Reader", "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    with server.client(server.token(reader, PASSWORD)) as client:
        listed = client.get("/computenodes")
        assert listed.status_code == 200, listed.text
        assert_error(client.post("/computenodes", json={"entries": []}), 403)
    body = listed.json()
    [node] = body["nodes"]
    assert body["computeNodes"] == [node["address"]]
    assert node["alive"] is True and node["cpus"] >= 1 and node["memoryBytes"] > 0
    with server.client(admin_token) as client:
        entries = {"entries": ["http://10.0.0.5:6380"]}
        for method in ("POST", "PUT", "DELETE"):
            assert_error(client.request(method, "/computenodes", json=entries), 409, "entries")
        bad = client.post("/computenodes", json={"entries": ["10.0.0.5-9"]})
        assert_error(bad, 400, "entries[0]")
