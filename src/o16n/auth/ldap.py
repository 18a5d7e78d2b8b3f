"""LDAP and Active Directory as an IdentitySource, on the pure-Python ldap3 client.

A login searches the person with the service account (or anonymously), binds as the DN
found with the given password, then reads their groups (the `memberOf` attribute and/or a
group search) and maps them to a role: Owner > Contributor > Reader; no mapped group, no role.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import ldap3
from ldap3.core.exceptions import LDAPException, LDAPInvalidDnError
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from o16n.domain.models import DirectoryUser, Role
from o16n.errors import IdentitySourceUnavailable
from o16n.settings import Settings

_log = logging.getLogger("o16n.ldap")
_SUCCESS = 0
_SIZE_LIMIT_EXCEEDED = 4
_GROUP_ATTRIBUTE = "memberOf"
_LONGEST_NAME = 64  # the users table's limit


def _normal_dn(dn: str) -> str:
    """A DN in one spelling for comparisons: lowercase, no blanks around separators."""
    try:
        parts = parse_dn(dn, strip=True)
    except LDAPInvalidDnError:
        return dn.strip().lower()
    return ",".join(f"{kind}={value}" for kind, value, _ in parts).lower()


def _first_value(dn: str) -> str:
    """The value of a DN's first RDN (`cn=Readers,ou=...` → `readers`)."""
    try:
        return str(parse_dn(dn, strip=True)[0][1]).lower()
    except (LDAPInvalidDnError, IndexError):
        return dn.strip().lower()


def _matches(configured: str, group_dns: Iterable[str]) -> bool:
    """Whether a configured group (a full DN, or just its name) is among `group_dns`."""
    if "=" in configured:
        wanted = _normal_dn(configured)
        return any(_normal_dn(dn) == wanted for dn in group_dns)
    name = configured.strip().lower()
    return any(_first_value(dn) == name for dn in group_dns)


@dataclass(frozen=True)
class RoleGroups:
    """Which directory groups make a person Owner, Contributor or Reader."""

    owner: tuple[str, ...]
    contributor: tuple[str, ...]
    reader: tuple[str, ...]

    def role_of(self, group_dns: list[str]) -> Role | None:
        """The highest role any of the person's groups maps to; None when none does."""
        for role, configured in (
            (Role.OWNER, self.owner),
            (Role.CONTRIBUTOR, self.contributor),
            (Role.READER, self.reader),
        ):
            if any(_matches(group, group_dns) for group in configured):
                return role
        return None


def _split(groups: str) -> tuple[str, ...]:
    return tuple(group.strip() for group in groups.split(";") if group.strip())


def _text(raw: bytes) -> str:
    """An attribute value as text; binary ids (Active Directory's objectGUID) as hex."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.hex()
    return text if text.isprintable() else raw.hex()


class LdapDirectory:
    """The IdentitySource port on an LDAP server (OpenLDAP, Active Directory, ...)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._groups = RoleGroups(
            _split(settings.ldap_owner_groups),
            _split(settings.ldap_contributor_groups),
            _split(settings.ldap_reader_groups),
        )
        self._tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED,
            ca_certs_file=str(settings.ldap_ca_file) if settings.ldap_ca_file else None,
        )

    def authenticate(self, username: str, password: str) -> DirectoryUser | None:
        """The person when `password` is theirs; None for an unknown name or a wrong password."""
        if not password:
            return None  # a simple bind without a password is an anonymous bind: never a login
        with self._service() as connection:
            entry = self._find(connection, username)
            if entry is None or not self._binds(str(entry["dn"]), password):
                return None
            return self._person(connection, entry)

    def lookup(self, username: str) -> DirectoryUser | None:
        """The person as the directory knows them now, or None when the search finds nobody."""
        with self._service() as connection:
            entry = self._find(connection, username)
            return None if entry is None else self._person(connection, entry)

    @contextmanager
    def _service(self) -> Iterator[ldap3.Connection]:
        """A connection bound as the service account (anonymous without one)."""
        secret = self._settings.ldap_bind_password
        try:
            with self._connection(
                self._settings.ldap_bind_dn or None, secret.get_secret_value() if secret else None
            ) as connection:
                if not connection.bind():
                    _log.error(
                        "LDAP refused the service bind: %s", connection.result["description"]
                    )
                    raise IdentitySourceUnavailable("the directory refused the service account")
                yield connection
        except LDAPException as error:
            _log.warning("LDAP %s failed: %s", self._settings.ldap_url, error)
            raise IdentitySourceUnavailable(
                "the directory (LDAP) cannot be reached: try again later"
            ) from error

    @contextmanager
    def _connection(self, user: str | None, password: str | None) -> Iterator[ldap3.Connection]:
        # A Server per connection: ldap3's Server remembers failed addresses for a while and
        # is not meant to be shared between threads.
        server = ldap3.Server(
            self._settings.ldap_url,
            get_info=ldap3.NONE,
            tls=self._tls,
            connect_timeout=self._settings.ldap_connect_timeout_seconds,
        )
        connection = ldap3.Connection(
            server,
            user=user,
            password=password,
            auto_bind=ldap3.AUTO_BIND_NONE,
            auto_referrals=False,
            read_only=True,
            raise_exceptions=False,
            receive_timeout=self._settings.ldap_timeout_seconds,
        )
        try:
            connection.open()
            if self._settings.ldap_start_tls and not connection.start_tls():
                raise IdentitySourceUnavailable("the directory refused StartTLS")
            yield connection
        finally:
            connection.unbind()

    def _binds(self, dn: str, password: str) -> bool:
        """Whether the directory accepts `password` for `dn` (locked or disabled: no)."""
        with self._connection(dn, password) as connection:
            return bool(connection.bind())

    def _search(
        self, connection: ldap3.Connection, base: str, query: str, attributes: list[str], limit: int
    ) -> list[dict[str, object]]:
        connection.search(
            base,
            query,
            search_scope=ldap3.SUBTREE,
            attributes=attributes,
            size_limit=limit,
            time_limit=self._settings.ldap_timeout_seconds,
        )
        code = connection.result["result"]
        if code not in (_SUCCESS, _SIZE_LIMIT_EXCEEDED):
            _log.error("LDAP search under %r failed: %s", base, connection.result["description"])
            raise IdentitySourceUnavailable("the directory search failed")
        return [entry for entry in connection.response or [] if entry["type"] == "searchResEntry"]

    def _find(self, connection: ldap3.Connection, username: str) -> dict[str, object] | None:
        """The one entry the user filter finds for `username` (escaped), or None."""
        settings = self._settings
        query = settings.ldap_user_filter.replace("{username}", escape_filter_chars(username))
        attributes = [
            settings.ldap_username_attribute,
            settings.ldap_id_attribute,
            _GROUP_ATTRIBUTE,
        ]
        entries = self._search(connection, settings.ldap_search_base, query, attributes, 2)
        if len(entries) > 1:
            _log.warning("LDAP user filter matches several entries for %r: refused", username)
        return entries[0] if len(entries) == 1 else None

    def _person(
        self, connection: ldap3.Connection, entry: dict[str, object]
    ) -> DirectoryUser | None:
        settings = self._settings
        dn = str(entry["dn"])
        raw = _values(entry, "raw_attributes", settings.ldap_id_attribute)
        names = _values(entry, "attributes", settings.ldap_username_attribute)
        if not names or len(str(names[0])) > _LONGEST_NAME:
            _log.warning(
                "LDAP entry %r has no usable %s: refused", dn, settings.ldap_username_attribute
            )
            return None
        groups = [str(group) for group in _values(entry, "attributes", _GROUP_ATTRIBUTE)]
        if settings.ldap_group_filter:
            query = settings.ldap_group_filter.replace("{dn}", escape_filter_chars(dn))
            base = settings.ldap_group_search_base or settings.ldap_search_base
            found = self._search(connection, base, query, [ldap3.NO_ATTRIBUTES], 0)
            groups.extend(str(group["dn"]) for group in found)
        return DirectoryUser(
            directory_id=_text(raw[0]) if raw and isinstance(raw[0], bytes) else _normal_dn(dn),
            username=str(names[0]),
            role=self._groups.role_of(groups),
        )


def _values(entry: dict[str, object], kind: str, attribute: str) -> list[object]:
    """An entry's values of one attribute (attribute names are case-insensitive)."""
    found = entry.get(kind)
    if not isinstance(found, Mapping):
        return []
    for name, values in found.items():
        if str(name).lower() == attribute.lower():
            return list(values) if isinstance(values, list) else [values]
    return []
