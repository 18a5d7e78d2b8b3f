"""The client's public API and its independence from the server's modules."""

from __future__ import annotations

import ast
import subprocess
import sys

import o16n.client


def test_public_api_is_exact() -> None:
    assert o16n.client.__all__ == [
        "AsyncBatch",
        "AsyncClient",
        "AsyncService",
        "AsyncSession",
        "Batch",
        "BatchStatus",
        "Client",
        "ExecuteResult",
        "Service",
        "ServiceInfo",
        "ServiceResult",
        "Session",
        "error_from",
        "request_id_of",
    ]
    for name in o16n.client.__all__:
        assert getattr(o16n.client, name).__module__.startswith("o16n.client.")


def test_importing_the_client_imports_no_server_module() -> None:
    script = (
        "import o16n.client, sys; print(sorted(m for m in sys.modules if m.startswith('o16n')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    modules = ast.literal_eval(result.stdout)
    assert "o16n.errors" in modules
    for module in modules:
        assert module in {"o16n", "o16n.errors"} or module.startswith("o16n.client"), module


def test_importing_the_client_does_not_import_dill() -> None:
    script = "import o16n.client, sys; print('dill' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
