"""Worker request handlers for working-directory files (no user code runs here).

Standalone (the worker imports it): it imports nothing from o16n but runtime leaf modules.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from o16n.runtime.worker import files
from o16n.runtime.worker.payload import RequestError, check_keys, member

Handler = Callable[[dict[str, object]], dict[str, object]]


@contextlib.contextmanager
def file_errors(name: str) -> Iterator[None]:
    """Turn file-system failures about `name` into error replies."""
    try:
        yield
    except FileNotFoundError:
        raise RequestError("not_found", f"no file named {name!r}") from None
    except ValueError as exc:
        raise RequestError("invalid_input", str(exc)) from None
    except OSError as exc:
        raise RequestError("invalid_input", f"{name}: {exc.strerror or exc}") from None


class Directory:
    """The `file_*` requests on the working directory open as fd `root`."""

    def __init__(self, root: int) -> None:
        self.root = root

    def handlers(self) -> dict[str, Handler]:
        """Request kind -> handler."""
        return {
            "file_list": self.file_list,
            "file_get": self.file_get,
            "file_put": self.file_put,
            "file_delete": self.file_delete,
        }

    def file_list(self, payload: dict[str, object]) -> dict[str, object]:
        """The files of the working directory (relative paths)."""
        check_keys(payload, set(), set())
        return {"names": files.names(self.root)}

    def file_get(self, payload: dict[str, object]) -> dict[str, object]:
        """A working-directory file's content."""
        check_keys(payload, {"name"}, set())
        name = member(payload, "name", str)
        with file_errors(name):
            return {"data": files.read(self.root, name)}

    def file_put(self, payload: dict[str, object]) -> dict[str, object]:
        """Create or overwrite a working-directory file."""
        check_keys(payload, {"name", "data"}, set())
        name = member(payload, "name", str)
        with file_errors(name):
            files.write(self.root, name, member(payload, "data", bytes))
        return {}

    def file_delete(self, payload: dict[str, object]) -> dict[str, object]:
        """Delete a working-directory file."""
        check_keys(payload, {"name"}, set())
        name = member(payload, "name", str)
        with file_errors(name):
            files.delete(self.root, name)
        return {}
