"""Running uv (the binary shipped in its Python package): find an installed Python, resolve
requirements to a lock, create an environment and install a lock into it.

uv runs with a scrubbed environment (but for the machine's certificate and proxy variables)
and no configuration files; the index URLs (which may
carry credentials) reach it through its environment, never its command line, and are
masked in every message it produces.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from uv import find_uv_bin

_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
# How this machine reaches the network: uv needs them as any HTTPS client of the server does.
_NETWORK_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                      "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy")  # fmt: skip
_MAX_MESSAGE = 2000
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class UvFailed(Exception):
    """uv refused or failed; the message is its own, cleaned and with secrets masked."""


@dataclass(frozen=True)
class IndexOptions:
    """Where packages come from: an index (default PyPI), an extra index, a wheel folder;
    `no_index` keeps to the wheel folder (a server without network)."""

    index_url: str | None = None
    extra_index_url: str | None = None
    find_links: Path | None = None
    no_index: bool = False
    source_builds: bool = False


class Uv:
    """One uv binary, its cache folder and the index options every command uses."""

    def __init__(self, cache_dir: Path, options: IndexOptions, timeout: float) -> None:
        self._binary = find_uv_bin()
        self._cache_dir = cache_dir
        self._options = options
        self._timeout = timeout

    def find_python(self, version: str) -> str:
        """The path of an installed Python `version` (never downloaded)."""
        found = self._run(["python", "find", "--python-preference", "only-system", version])
        return found.strip()

    def compile(self, requirements: tuple[str, ...], python: str) -> str:
        """The lock of `requirements` for `python`: exact versions with their hashes."""
        arguments = ["pip", "compile", "-", "--python", python, "--generate-hashes"]
        arguments += ["--no-header", "--no-annotate", *self._index_arguments()]
        return self._run(arguments, stdin="\n".join(requirements) + "\n")

    def create(self, target: Path, python: str) -> None:
        """A new, empty, relocatable environment at `target` on `python`."""
        self._run(["venv", "--python", python, "--relocatable", "--no-project", str(target)])

    def install(self, python: str, lock: Path) -> None:
        """Make the environment of `python` hold exactly the packages of `lock`."""
        arguments = ["pip", "sync", "--python", python, "--require-hashes", "--strict"]
        self._run([*arguments, *self._index_arguments(), str(lock)])

    def _index_arguments(self) -> list[str]:
        options = self._options
        arguments = [] if options.source_builds else ["--no-build"]
        if options.find_links is not None:
            arguments += ["--find-links", str(options.find_links)]
        if options.no_index:
            arguments.append("--no-index")
        return arguments

    def _environment(self) -> dict[str, str]:
        environment = {
            "PATH": _SYSTEM_PATH,
            "HOME": str(self._cache_dir),
            "LANG": "C.UTF-8",
            "UV_CACHE_DIR": str(self._cache_dir),
            "UV_NO_CONFIG": "1",
            "UV_PYTHON_DOWNLOADS": "never",
            "NO_COLOR": "1",
            **{name: os.environ[name] for name in _NETWORK_VARIABLES if name in os.environ},
        }
        if self._options.index_url:
            environment["UV_DEFAULT_INDEX"] = self._options.index_url
        if self._options.extra_index_url:
            environment["UV_INDEX"] = self._options.extra_index_url
        return environment

    def _run(self, arguments: list[str], stdin: str | None = None) -> str:
        command = [self._binary, *arguments, "--quiet", "--color", "never", "--no-progress"]
        try:
            done = subprocess.run(
                command,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self._timeout,
                env=self._environment(),
                cwd="/",
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise UvFailed(f"uv did not finish within {self._timeout:g} seconds") from None
        except OSError as exc:
            raise UvFailed(f"uv could not run: {exc}") from None
        if done.returncode != 0:
            raise UvFailed(self._cleaned(done.stderr or done.stdout))
        return done.stdout

    def _cleaned(self, text: str) -> str:
        """uv's message on one line, without colours, secrets masked."""
        text = " ".join(_ANSI.sub("", text).split())
        for secret in self._secrets():
            text = text.replace(secret, "****")
        return (text or "uv failed without a message")[:_MAX_MESSAGE]

    def _secrets(self) -> list[str]:
        """The index URLs and the passwords inside them, longest first."""
        found: list[str] = []
        for url in (self._options.index_url, self._options.extra_index_url):
            if url:
                found += [url, *filter(None, [urlsplit(url).password])]
        return sorted(found, key=len, reverse=True)


def cache_folder(path: Path) -> Path:
    """Create uv's cache folder (private to the server)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path
