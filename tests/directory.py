"""A throwaway OpenLDAP server for the tests: slapd.conf and an mdb database in a temporary folder.

The binaries come from Debian's `slapd` and `ldap-utils` packages (`scripts/test` installs them
when missing). The server runs under the test's own identity and listens on 127.0.0.1 only.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.harness import free_port

SLAPD = Path("/usr/sbin/slapd")
START_SECONDS = 30
SUFFIX = "dc=o16n,dc=test"
ROOT_DN = f"cn=root,{SUFFIX}"
ROOT_PASSWORD = "Root-Secret-4711"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"

_CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {root}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 16777216
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {root}/data
index objectClass,uid,member eq
access to attrs=userPassword by anonymous auth by self write by * none
access to * by * read
"""
# A self-signed certificate for 127.0.0.1 serves LDAPS and StartTLS.
_TLS = """\
TLSCertificateFile {root}/cert.pem
TLSCertificateKeyFile {root}/key.pem
"""
# The memberof overlay keeps a memberOf attribute on people, as Active Directory does.
_MEMBER_OF = """moduleload memberof
overlay memberof
"""


def _entries(people: dict[str, str], groups: dict[str, list[str]]) -> str:
    blocks = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: o16n\no: o16n",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
    ]
    for uid, password in people.items():
        blocks.append(
            f"dn: {person_dn(uid)}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\n"
            f"sn: {uid}\nuserPassword: {password}"
        )
    for name, members in groups.items():
        # groupOfNames needs a member: an empty group holds the root DN, which is no person.
        dns = [person_dn(uid) for uid in members] or [ROOT_DN]
        lines = "".join(f"member: {dn}\n" for dn in dns)
        blocks.append(f"dn: {group_dn(name)}\nobjectClass: groupOfNames\ncn: {name}\n{lines}")
    return "\n\n".join(block.rstrip("\n") for block in blocks) + "\n"


def _self_signed(root: Path) -> None:
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip


def person_dn(uid: str) -> str:
    """The DN of a seeded person."""
    return f"uid={uid},{PEOPLE}"


def group_dn(name: str) -> str:
    """The DN of a seeded group."""
    return f"cn={name},{GROUPS}"


@dataclass
class Directory:
    """A running slapd seeded with people (uid → password) and groups (cn → member uids)."""

    root: Path
    port: int
    tls_port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def certificate(self) -> Path:
        """The server's self-signed certificate (its own CA), with `tls`."""
        return self.root / "cert.pem"

    @classmethod
    def start(
        cls,
        people: dict[str, str],
        groups: dict[str, list[str]],
        *,
        member_of: bool = False,
        tls: bool = False,
    ) -> Directory:
        """Write the configuration, start slapd, seed it with ldapadd; stop() removes it."""
        if not SLAPD.exists():
            raise RuntimeError("OpenLDAP is missing: apt-get install slapd ldap-utils")
        root = Path(tempfile.mkdtemp(prefix="o16n-ldap-", dir="/tmp"))
        (root / "data").mkdir()
        config = _CONFIG.format(
            root=root, suffix=SUFFIX, root_dn=ROOT_DN, root_password=ROOT_PASSWORD
        )
        if tls:
            _self_signed(root)
            config = _TLS.format(root=root) + config
        (root / "slapd.conf").write_text(config + (_MEMBER_OF if member_of else ""))
        directory = cls(root, free_port(), free_port() if tls else None)
        directory.resume()
        directory.ldap("ldapadd", _entries(people, groups))
        return directory

    def resume(self) -> None:
        """Start slapd (again) in the foreground of its own process; wait until it answers."""
        listen = f"{self.url}/" + (f" ldaps://127.0.0.1:{self.tls_port}/" if self.tls_port else "")
        self.process = subprocess.Popen(
            [str(SLAPD), "-d", "0", "-f", str(self.root / "slapd.conf"), "-h", listen],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_SECONDS
        while self._search_base() != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"slapd did not start (exit {self.process.poll()})")
            time.sleep(0.05)

    def _search_base(self) -> int:
        probe = ["ldapsearch", "-x", "-H", self.url, "-s", "base", "-b", "", "-LLL", "1.1"]
        return subprocess.run(probe, capture_output=True, timeout=10, check=False).returncode

    def ldap(self, program: str, ldif: str) -> None:
        """Run ldapadd or ldapmodify as the root DN with `ldif` on stdin."""
        command = [program, "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD]
        done = subprocess.run(
            command, input=ldif.encode(), capture_output=True, timeout=30, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stderr.decode(errors='replace')}")

    def add_member(self, uid: str, group: str) -> None:
        """Put a person into a group."""
        self._modify(group_dn(group), f"add: member\nmember: {person_dn(uid)}")

    def remove_member(self, uid: str, group: str) -> None:
        """Take a person out of a group (which keeps at least one member)."""
        self._modify(group_dn(group), f"delete: member\nmember: {person_dn(uid)}")

    def _modify(self, dn: str, change: str) -> None:
        self.ldap("ldapmodify", f"dn: {dn}\nchangetype: modify\n{change}\n")

    def delete(self, uid: str) -> None:
        """Delete a person."""
        self.ldap("ldapmodify", f"dn: {person_dn(uid)}\nchangetype: delete\n")

    def pause(self) -> None:
        """Stop slapd (the database stays, `resume` starts it again)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=START_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stop(self) -> None:
        """Stop slapd and remove its folder."""
        self.pause()
        shutil.rmtree(self.root, ignore_errors=True)
