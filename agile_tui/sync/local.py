"""A shared room on this machine: ``<data>/shared/<room>/`` holds

- ``link.json`` (mode 0600: it holds the participant token): which hub, which room, who we are there;
- ``outbox.journal``: every op made here, fsynced before the app says "saved", until the hub has it and the
  confirmed copy below includes it (the same line format as a room's journal);
- ``confirmed.json``: the room as the hub last confirmed it to us (our view), with its seq, written atomically;
- ``lock``: one process owns the shared room, as for a local room.

Loading never refuses to open: a damaged ``confirmed.json`` is set aside (the hub sends a fresh snapshot), a torn
last outbox line is cut off (it was never reported saved).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..domain import State
from ..domain.ops import Op
from ..store.fsutil import atomic_write_bytes, keep_copy, move_aside, remove_stale_temps
from ..store.journal import Journal, scan_journal
from ..store.lock import RoomLock
from ..store.paths import LINK_NAME, SHARED_DIR, shared_dir
from .replica import Pending

LINK = LINK_NAME
OUTBOX = "outbox.journal"
CONFIRMED = "confirmed.json"
HUB_ROOM = re.compile(r"[A-Za-z0-9_-]{1,64}")


class BadInvite(ValueError):
    pass


@dataclass
class Invite:
    server: str  # e.g. http://127.0.0.1:8765 (no trailing slash)
    room: str
    token: str = ""  # the invite token; empty when a participant token is given another way

    @property
    def url(self) -> str:
        return f"{self.server}/join/{self.room}/{self.token}" if self.token else f"{self.server}/join/{self.room}"


def parse_invite(url: str) -> Invite:
    """``http://HOST:PORT/join/ROOM/INVITE`` (or ``…/join/ROOM`` with a token from elsewhere); a hub on a Unix
    socket: ``http+unix://%2Fpath%2Fto%2Fhub.sock/join/ROOM/INVITE``."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "http+unix") or not parts.netloc:
        raise BadInvite(f"{url!r} is not an invite: it should look like http://HOST:PORT/join/ROOM/INVITE.")
    path = parts.path.rstrip("/")
    prefix, sep, rest = path.rpartition("/join/")
    bits = rest.split("/") if sep else []
    if not sep or not 1 <= len(bits) <= 2 or not HUB_ROOM.fullmatch(bits[0]):
        raise BadInvite(f"{url!r} is not an invite: it should look like http://HOST:PORT/join/ROOM/INVITE.")
    return Invite(f"{parts.scheme}://{parts.netloc}{prefix}", bits[0], bits[1] if len(bits) == 2 else "")


@dataclass
class HubLink:
    """Who this app is in which room of which hub."""

    server: str
    room: str  # the hub's room id
    token: str = field(repr=False)  # our participant token
    participant_id: str
    member_id: str
    name: str
    role: str
    client_id: str = field(default_factory=lambda: "c-" + secrets.token_hex(8))
    invite: str = field(default="", repr=False)  # kept by whoever shared the room, to show the invite again
    metrics_token: str = field(default="", repr=False)

    def invite_url(self) -> str:
        return Invite(self.server, self.room, self.invite).url if self.invite else ""


REQUIRED_LINK = ("server", "room", "token", "participant_id", "member_id", "name", "role")


def list_shared(data_dir: str | Path) -> list[str]:
    folder = Path(data_dir) / SHARED_DIR
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / LINK).is_file())


def read_link(data_dir: str | Path, room: str) -> HubLink | None:
    """The room's hub link, or None when the room is not shared. Raises ValueError when it is unreadable."""
    try:
        path = shared_dir(data_dir, room) / LINK
    except ValueError:
        return None
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in REQUIRED_LINK):
            raise ValueError("it is not a hub link (server, room, token, participant, member, name, role)")
        return HubLink(**{k: v for k, v in data.items() if k in HubLink.__dataclass_fields__ and isinstance(v, str)})
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"The hub link of room {room!r} ({path}) cannot be read: {error}") from None


def write_link(data_dir: str | Path, room: str, link: HubLink) -> None:
    folder = shared_dir(data_dir, room)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    atomic_write_bytes(folder / LINK, json.dumps(asdict(link), indent=1).encode("utf-8"))


def find_link(data_dir: str | Path, server: str, hub_room: str) -> str | None:
    """The local name of a room already linked to this hub room: of this hub, else of any (room ids are random,
    so the same id is the same room, whether the hub is spelt localhost or 127.0.0.1, or moved)."""
    found = None
    for name in list_shared(data_dir):
        try:
            link = read_link(data_dir, name)
        except ValueError:
            continue
        if link and link.room == hub_room:
            if link.server.rstrip("/") == server.rstrip("/"):
                return name
            found = found or name
    return found


@dataclass
class Confirmed:
    seq: int
    state: State
    hidden: dict[str, Any]
    participants: list[dict[str, Any]]
    refused: list[str] = field(default_factory=list)  # op ids in the outbox that the hub refused: never resent


def write_confirmed(folder: Path, confirmed: Confirmed) -> None:
    data = {"seq": confirmed.seq, "state": confirmed.state.to_dict(), "hidden": confirmed.hidden,
            "participants": confirmed.participants, "refused": confirmed.refused}
    atomic_write_bytes(folder / CONFIRMED, json.dumps(data, separators=(",", ":")).encode("ascii"))


def read_confirmed(folder: Path, problems: list[str], writable: bool) -> Confirmed | None:
    path = folder / CONFIRMED
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_bytes())
        return Confirmed(int(data["seq"]), State.from_dict(data["state"]), dict(data.get("hidden") or {}),
                         list(data.get("participants") or []), [str(x) for x in data.get("refused") or []])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        if writable:
            aside = move_aside(path)
            problems.append(f"The saved copy of the shared room could not be read ({error}); it was kept as "
                            f"{aside.name} and a fresh copy comes from the hub.")
        else:
            problems.append(f"The saved copy of the shared room could not be read ({error}).")
        return None


def read_outbox(folder: Path, problems: list[str], writable: bool = False) -> list[Pending]:
    scan = scan_journal(folder / OUTBOX)
    if scan.bad_line is not None:
        kept = ""
        if writable:  # keep it whole aside, then cut the lines from the damaged one on (a new file: the copy,
            aside = keep_copy(folder / OUTBOX)  # a hard link, keeps every byte)
            atomic_write_bytes(folder / OUTBOX, (folder / OUTBOX).read_bytes()[: scan.good_end])
            kept = f" The whole outbox was kept as {aside.name}."
        problems.append(f"The outbox of the shared room had a damaged line {scan.bad_line}; the changes before it "
                        f"are kept.{kept}")
    out = []
    for ref, data in scan.entries:
        try:
            out.append(Pending(Op.from_dict(data), ref))
        except (KeyError, TypeError, ValueError):
            problems.append(f"Outbox line {ref} is not a change; it was skipped.")
    return out


class SharedFiles:
    """The owner's handle on a shared room's files (lock held until ``close``)."""

    def __init__(self, data_dir: str | Path, room: str) -> None:
        self.room = room
        self.folder = shared_dir(data_dir, room)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.problems: list[str] = []
        self._lock = RoomLock.acquire(room, self.folder / "lock")
        try:
            remove_stale_temps(self.folder / CONFIRMED)
            remove_stale_temps(self.folder / OUTBOX)
            link = read_link(data_dir, room)
            if link is None:
                raise ValueError(f"Room {room!r} is not shared with a hub.")
            self.link = link
            self.data_dir = Path(data_dir)
            self.confirmed = read_confirmed(self.folder, self.problems, writable=True)
            refused = set(self.confirmed.refused) if self.confirmed else set()
            self.pending = [p for p in read_outbox(self.folder, self.problems, writable=True)
                            if p.op.op_id not in refused]
            self._outbox = Journal(self.folder / OUTBOX, scan_journal(self.folder / OUTBOX))
            self._next_ref = max([p.ref for p in self.pending], default=0) + 1
        except BaseException:
            self._lock.release()
            raise

    def next_ref(self) -> int:
        ref, self._next_ref = self._next_ref, self._next_ref + 1
        return ref

    def append(self, ref: int, op: Op) -> None:
        """Durable before it returns (one fsynced line)."""
        self._outbox.append(ref, op.to_dict())

    def save_confirmed(self, confirmed: Confirmed, done_through: int) -> None:
        """Write the confirmed copy, then cut the outbox lines up to ``done_through`` (they are in it, or were
        refused): the order keeps every op either in the copy or in the outbox."""
        write_confirmed(self.folder, confirmed)
        if done_through > 0:
            self._outbox.drop_through(done_through)

    def save_link(self) -> None:
        write_link(self.data_dir, self.room, self.link)

    def close(self) -> None:
        self._outbox.close()
        self._lock.release()


def load_shared_readonly(data_dir: str | Path, room: str) -> tuple[State, int, list[str]]:
    """What the app would show for a shared room (the confirmed copy and the outbox on top), without the lock:
    for `agile-tui export` while the app runs."""
    from .replica import Replica

    folder = shared_dir(data_dir, room)
    problems: list[str] = []
    confirmed = read_confirmed(folder, problems, writable=False)
    pending = read_outbox(folder, problems)
    replica = Replica(confirmed.state if confirmed else State(), confirmed.seq if confirmed else 0, None, pending)
    return replica.state, replica.seq, problems
