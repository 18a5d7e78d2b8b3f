"""How a worker process is launched: identity, scrubbed environment, working directory, fds.

Nothing travels to a worker through its environment: it gets PATH, a UTF-8 locale, HOME (its
working directory), PYTHONPATH when o16n is not installed (on the server's own Python), and
thread caps; its limits come in the `hello` frame. The interpreter runs with -s -P -B: no
user site directory, no working directory on sys.path while o16n starts (the worker adds it
afterwards), no bytecode written into the server's installation.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import site
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from o16n.errors import CapacityExceeded, WorkerError
from o16n.runtime.child import Child
from o16n.runtime.limits import WorkerLimits

_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_HINTS = MappingProxyType({signal.SIGXCPU: " (its CPU time limit was reached)"})


@dataclass(frozen=True, slots=True)
class Identity:
    """The unprivileged account a worker runs as."""

    name: str
    uid: int
    gid: int


TRAVERSABLE = 0o711  # other accounts may pass through to their own folders, not list them


def open_root(path: Path) -> None:
    """Create a folder that holds workers' folders: workers pass through it, never list it."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(TRAVERSABLE)


def reset_root(path: Path) -> None:
    """`open_root`, emptied of the folders that workers of an earlier server left behind."""
    open_root(path)
    for leftover in path.iterdir():
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def identity(user: str | None) -> Identity | None:
    """The account to switch to: only when the server runs as root and a user is configured."""
    if user is None or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise WorkerError(f"the worker user {user!r} does not exist") from None
    return Identity(user, entry.pw_uid, entry.pw_gid)


class Identities:
    """Who workers run as when the server runs as root: one named account for all of them,
    or, given a range of uids, a uid of its own for every live worker.

    A uid is handed out again only after its worker ended, in rotation (the longest-free one
    first), and only once no process runs under it any more: strays that user code detached
    from the worker's process group are killed first.
    """

    def __init__(self, user: str | None, uids: range | None = None) -> None:
        self._user = user
        self._uids = uids if uids is not None and os.geteuid() == 0 else None
        self._cursor = 0
        self._taken: set[int] = set()

    def acquire(self) -> Identity | None:
        """The identity of the next worker (None: the server's own)."""
        if self._uids is None:
            return identity(self._user)
        for _ in range(len(self._uids)):
            uid = self._uids[self._cursor]
            self._cursor = (self._cursor + 1) % len(self._uids)
            if uid not in self._taken:
                _kill_processes_of(uid)
                self._taken.add(uid)
                return Identity(f"uid {uid}", uid, uid)
        raise CapacityExceeded(
            f"all {len(self._uids)} worker uids are in use (O16N_WORKER_UIDS)", retry_after=5
        )

    def release(self, owner: Identity | None) -> None:
        """The worker that ran as `owner` has ended."""
        if owner is not None:
            self._taken.discard(owner.uid)


def _kill_processes_of(uid: int) -> None:
    """SIGKILL every process running under `uid` (read from /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_uid == uid:
                os.kill(int(entry.name), signal.SIGKILL)


def environment(executable: str, working_dir: Path, threads: int | None) -> dict[str, str]:
    """The complete environment of a worker (no server variable is ever copied)."""
    env = {
        "PATH": f"{Path(executable).parent}:{_SYSTEM_PATH}",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": str(working_dir),
    }
    source = Path(__file__).resolve().parents[2]
    if executable == sys.executable and str(source) not in site.getsitepackages():
        env["PYTHONPATH"] = str(source)  # another Python has o16n's worker code of its own
    if threads is not None:
        env.update(dict.fromkeys(_THREAD_VARIABLES, str(threads)))
    return env


def prepare_directory(path: Path, owner: Identity | None) -> None:
    """Create the working directory (mode 0700) and give its whole tree to `owner`."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if owner is None:
        return
    os.chown(path, owner.uid, owner.gid)
    for folder, names, filenames in os.walk(path):
        for name in (*names, *filenames):
            os.chown(os.path.join(folder, name), owner.uid, owner.gid, follow_symlinks=False)


def launch(
    executable: str, working_dir: Path, limits: WorkerLimits, owner: Identity | None
) -> tuple[Child, socket.socket, int]:
    """Spawn a worker as `owner`; return it, our end of its socket and its stderr's read end."""
    prepare_directory(working_dir, owner)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    stderr_read, stderr_write = os.pipe()
    try:
        popen = subprocess.Popen(
            (executable, "-s", "-P", "-B", "-m", "o16n.runtime.worker", str(theirs.fileno())),
            pass_fds=(theirs.fileno(),),
            cwd=working_dir,
            env=environment(executable, working_dir, limits.threads),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr_write,
            start_new_session=True,
            umask=0o077,
            user=None if owner is None else owner.uid,
            group=None if owner is None else owner.gid,
            extra_groups=None if owner is None else [],
        )
    except OSError as exc:
        ours.close()
        os.close(stderr_read)
        raise WorkerError(_launch_failure(executable, owner, exc)) from exc
    finally:
        theirs.close()
        os.close(stderr_write)
    return Child(popen), ours, stderr_read


def _launch_failure(executable: str, owner: Identity | None, exc: OSError) -> str:
    """Why a worker could not be started, with what to check."""
    if owner is None:
        return f"cannot start a worker with {executable}: {exc}"
    return (
        f"cannot start a worker as user {owner.name!r}: {exc}; the interpreter "
        f"{os.path.realpath(executable)}, its standard library and o16n must be readable "
        "(and their folders searchable) by that user"
    )


def exit_description(pid: int, returncode: int, stderr_tail: bytes) -> str:
    """A one-line account of how a worker ended, with the last line it wrote to stderr."""
    if returncode < 0:
        try:
            number = signal.Signals(-returncode)
            name, hint = number.name, _HINTS.get(number, "")
        except ValueError:
            name, hint = str(-returncode), ""
        text = f"the worker (pid {pid}) was killed by signal {name}{hint}"
    else:
        text = f"the worker (pid {pid}) exited with code {returncode}"
    lines = stderr_tail.decode("utf-8", "replace").strip().splitlines()
    return f"{text}: {lines[-1][:500]}" if lines else text
