"""The SSH side's files: the keys file (who may join over SSH, under what name, with what role) and the hub's
host key. The keys file's format is described in ssh.py's docstring (and the README)."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import asyncssh
from asyncssh.pattern import HostPatternList

log = logging.getLogger("agile_tui.hub")

KEYS_NAME = "ssh_authorized_keys"
HOST_KEY_NAME = "ssh_host_ed25519_key"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class InsecureFile(ValueError):
    """The keys file or the host key could be changed (or read) by someone other than the hub's user."""


def _owners() -> tuple[int, ...]:
    return (os.geteuid(), 0)


def keys_file_insecurity(path: Path, st: os.stat_result) -> str | None:
    """Why the keys file cannot be trusted (as OpenSSH's StrictModes): writable by group or others, or not
    owned by the hub's user (or root). None when it is fine."""
    if st.st_uid not in _owners():
        return f"{path} is owned by uid {st.st_uid}, not by the hub's user (uid {os.geteuid()})"
    if st.st_mode & 0o022:
        who = {0o022: "group and others", 0o020: "group", 0o002: "others"}[st.st_mode & 0o022]
        return (f"{path} is writable by {who} "
                f"(mode {st.st_mode & 0o777:o}): anyone who can write it can let themselves in; chmod go-w it")
    return None


@dataclass(frozen=True)
class AuthorizedKey:
    key: asyncssh.SSHKey
    name: str
    facilitator: bool = False
    rooms: frozenset[str] | None = None  # None: any room
    allowed_from: str | None = None  # the from= pattern list, as written
    line: int = 0

    @property
    def fingerprint(self) -> str:
        return self.key.get_fingerprint()

    def allows_address(self, host: str, addr: str) -> bool:
        if self.allowed_from is None:
            return True
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack listener's IPv4 peer (::ffff:a.b.c.d) is checked as a.b.c.d
        return HostPatternList(self.allowed_from).matches(host, str(ip), ip)


ADDRESS_PATTERN = re.compile(r"[0-9.*?]+|[0-9A-Fa-f:.*?]*:[0-9A-Fa-f:.*?]*")


def host_name_patterns(allowed_from: str) -> list[str]:
    """The patterns of a from= list that are host names, not addresses: they never match (the hub does not
    look names up), so a negated one (``!bad.example``) refuses nobody."""
    names = []
    for pattern in allowed_from.split(","):
        bare = pattern.strip().lstrip("!")
        if not bare or ADDRESS_PATTERN.fullmatch(bare):
            continue
        try:
            ipaddress.ip_network(bare, strict=False)
        except ValueError:
            names.append(pattern.strip())
    return names


def parse_keys(text: str) -> tuple[list[AuthorizedKey], list[str]]:
    """The usable entries of a keys file, and a note for each line skipped (with its number)."""
    entries: list[AuthorizedKey] = []
    problems: list[str] = []
    seen: dict[asyncssh.SSHKey, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            entry = _parse_line(line, number)
        except ValueError as error:
            problems.append(f"line {number}: {error}")
            continue
        if entry.key in seen:
            problems.append(f"line {number}: the same key as line {seen[entry.key]} (that line counts)")
            continue
        seen[entry.key] = number
        entries.append(entry)
    return entries, problems


def _parse_line(line: str, number: int) -> AuthorizedKey:
    options: dict[str, str | bool] = {}
    try:
        key = asyncssh.import_public_key(line)
    except (asyncssh.KeyImportError, ValueError):
        options, rest = _split_options(line)
        try:
            key = asyncssh.import_public_key(rest)
        except (asyncssh.KeyImportError, ValueError):
            raise ValueError("not a public key (options, then `type base64 comment`)") from None
    if "cert-authority" in options:
        raise ValueError("cert-authority keys are not supported")
    name = options.get("agile-name", options.get("name"))
    if not isinstance(name, str):
        name = name_from_comment(key.get_comment() or "")
    name = CONTROL.sub("", name).strip()
    if not name:
        raise ValueError('no name: add name="…" before the key, or a comment after it')
    rooms = options.get("agile-rooms", options.get("rooms"))
    if rooms is True:
        raise ValueError('rooms needs a value: rooms="ROOM,ROOM"')
    allowed_from = options.get("from")
    if allowed_from is True:
        raise ValueError('from needs a value: from="PATTERN,PATTERN"')
    if allowed_from and (names := host_name_patterns(allowed_from)):
        log.warning("ssh: keys file line %d: from= patterns %s are host names, which never match (only "
                    "addresses are checked); a negated one refuses nobody", number, ", ".join(names))
    facilitator = any(options.get(flag) is True for flag in ("facilitator", "agile-facilitator"))
    return AuthorizedKey(key, name, facilitator,
                         frozenset(r.strip() for r in rooms.split(",") if r.strip()) if rooms else None,
                         allowed_from or None, number)


def name_from_comment(comment: str) -> str:
    """A key's comment as a name: "Ana Souza" stays, "ana@laptop" (ssh-keygen's default) gives "ana"."""
    comment = comment.strip()
    if re.fullmatch(r"[^\s@]+@[^\s@]+", comment):
        return comment.split("@", 1)[0]
    return comment


def _split_options(line: str) -> tuple[dict[str, str | bool], str]:
    """OpenSSH's option syntax: ``a,b="x,y",c=z`` up to the first blank outside quotes; ``\\"`` in quotes."""
    options: dict[str, str | bool] = {}
    current, quoted, i = "", False, 0
    while i < len(line):
        ch = line[i]
        if quoted and ch == "\\" and i + 1 < len(line) and line[i + 1] == '"':
            current += '"'
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in " \t":
            break
        elif not quoted and ch == ",":
            _add_option(options, current)
            current = ""
        else:
            current += ch
        i += 1
    if quoted:
        raise ValueError("a quote is not closed in the options")
    _add_option(options, current)
    return options, line[i:].strip()


def _add_option(options: dict[str, str | bool], text: str) -> None:
    name, eq, value = text.partition("=")
    name = name.strip().lower()
    if not name:
        raise ValueError("an empty option")
    options[name] = value if eq else True


class KeysFile:
    """The keys file, read again whenever it changes (size, time or inode): a key added or removed counts for
    the next connection, without a restart. A missing file is no keys (everyone is refused)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[asyncssh.SSHKey, AuthorizedKey] = {}
        self._stamp: tuple | None = None
        self._refused: tuple | None = None  # the stamp of an unsafe file already logged

    def load(self) -> None:
        """Read the file if it changed. An unsafe file (see keys_file_insecurity) raises InsecureFile on the
        first read; later, the keys read before are kept and the log says why."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self._stamp != ():
                log.warning("ssh: no keys file at %s: nobody can join over SSH until it has keys", self.path)
            self.entries, self._stamp = {}, ()
            return
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode, st.st_uid)
        if stamp == self._stamp:
            return
        problem = keys_file_insecurity(self.path, st)
        if problem is not None:
            if self._stamp is None:
                raise InsecureFile(f"refusing the keys file: {problem}")
            if stamp != self._refused:
                self._refused = stamp
                log.warning("ssh: not reading %s again: %s; the %d keys read before still count", self.path,
                            problem, len(self.entries))
            return
        text = self.path.read_text(encoding="utf-8", errors="replace")
        entries, problems = parse_keys(text)
        for problem in problems:
            log.warning("ssh: %s %s (skipped)", self.path, problem)
        if self._stamp is not None:
            log.info("ssh: read %s again: %d keys", self.path, len(entries))
        self.entries, self._stamp = {e.key: e for e in entries}, stamp

    def find(self, key: asyncssh.SSHKey) -> AuthorizedKey | None:
        try:
            self.load()
        except (OSError, InsecureFile) as error:  # keep the keys we had
            log.warning("ssh: cannot read %s: %s", self.path, error)
        return self.entries.get(key)


# ---------------------------------------------------------------------- the host key


def load_host_key(folder: Path) -> asyncssh.SSHKey:
    """The hub's SSH host key: ``ssh_host_ed25519_key`` in ``folder``, made (0600, with its ``.pub``) the first
    time. Two hubs starting at once in one folder end up with the same key (the file is linked in, not
    overwritten)."""
    path = folder / HOST_KEY_NAME
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="agile-tui hub")
        tmp = folder / f".{HOST_KEY_NAME}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(key.export_private_key())
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            else:
                (folder / f"{HOST_KEY_NAME}.pub").write_bytes(key.export_public_key())
                log.info("ssh: made the hub's host key %s (%s)", path, key.get_fingerprint())
        finally:
            tmp.unlink(missing_ok=True)
    st = path.stat()
    mode = st.st_mode & 0o777
    if st.st_uid not in _owners():
        raise InsecureFile(f"refusing the host key {path}: it is owned by uid {st.st_uid}, not by the hub's "
                           f"user (uid {os.geteuid()})")
    if mode & 0o077:
        raise InsecureFile(f"refusing the host key {path}: it is readable or writable by group or others (mode "
                           f"{mode:o}); it must be private to the hub's user: chmod 600 {path} (and consider "
                           "making a new one: delete it and its .pub, the hub makes another)")
    return asyncssh.read_private_key(path)
