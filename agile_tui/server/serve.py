"""Running the hub: ``agile-tui serve``. The socket is bound before FastAPI is imported, so a client that connects
at once waits in the listen queue instead of being refused; ctrl+c and SIGTERM end the open streams and stop."""

from __future__ import annotations

import logging
import os
import signal
import socket
import stat
import sys
from pathlib import Path

from .hub import Settings

log = logging.getLogger("agile_tui.hub")
UDS_MODE = 0o660  # owner and group: put the team in one group on a shared host


def bind_tcp(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY only on sockets that do, and without it every answer on a
    # kept-alive connection waited ~40 ms (Nagle against the client's delayed ACK), measured.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def bind_unix(path: Path) -> socket.socket:
    """A Unix socket at ``path``; a stale one (left by a killed hub) is replaced, a live one is not."""
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise OSError(f"{path} exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()
        else:
            raise OSError(f"another hub is listening on {path}")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o117)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, UDS_MODE)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(data_dir: Path, *, host: str = "127.0.0.1", port: int = 8765, uds: Path | None = None,
          settings: Settings | None = None, log_level: str = "info", ssh_port: int | None = None,
          ssh_keys: Path | None = None, ssh_room_limit: int = 50) -> int:
    """Run the hub until ctrl+c or SIGTERM. With ``ssh_port``, people also join over SSH (see ssh.py): on the
    same host, with the keys in ``ssh_keys`` (default: the hub folder's ssh_authorized_keys), at most
    ``ssh_room_limit`` people here in a room for an SSH login to be let in."""
    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    if ssh_keys is not None and not ssh_keys.is_file():
        print(f"agile-tui serve: no keys file at {ssh_keys}", file=sys.stderr)
        return 1
    try:
        sock = bind_unix(uds) if uds else bind_tcp(host, port)
    except OSError as error:
        where = uds or f"{host}:{port}"
        print(f"agile-tui serve: cannot listen on {where}: {error.strerror or error}", file=sys.stderr)
        return 1
    ssh_sock = None
    if ssh_port is not None:
        try:
            ssh_sock = bind_tcp(host, ssh_port)
            ssh_sock.set_inheritable(False)
        except OSError as error:
            sock.close()
            print(f"agile-tui serve: cannot listen for SSH on {host}:{ssh_port}: {error.strerror or error}",
                  file=sys.stderr)
            return 1
    from .app import create_app

    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    ssh = None
    if ssh_sock is not None:
        from .ssh import SSHConfig, client_url, unix_url

        http_url = unix_url(uds) if uds else client_url(host, sock.getsockname()[1])
        ssh = SSHConfig(ssh_sock, data_dir, http_url, ssh_keys, room_limit=ssh_room_limit)
        try:
            ssh.prepare()
        except (OSError, ValueError) as error:
            sock.close()
            ssh_sock.close()
            print(f"agile-tui serve: SSH: {error}", file=sys.stderr)
            return 1
    app = create_app(data_dir, settings=settings)

    server = hub_server(app, log_level=log_level, ssh=ssh)
    where = f"unix:{uds}" if uds else f"http://{host}:{sock.getsockname()[1]}"
    log.info("agile-tui hub on %s, data in %s", where, data_dir)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        if ssh_sock is not None:
            ssh_sock.close()
        if uds is not None:
            try:
                uds.unlink()
            except OSError:
                pass
    log.info("agile-tui hub stopped")
    return 0


def hub_server(app, *, log_level: str = "info", access_log: bool = True, ssh=None):
    """A uvicorn server for the hub's app whose stop (ctrl+c, SIGTERM, or ``stop()`` from another thread) first
    ends the open event streams, which would otherwise hold the shutdown. With ``ssh`` (an ``ssh.SSHConfig``)
    it also serves SSH on its loop, from its start (the HTTP side up) until its stop, where every SSH client is
    hung up, and has saved what it had, before the HTTP side closes."""
    import asyncio

    import uvicorn

    hub = app.state.hub

    class HubServer(uvicorn.Server):
        loop: asyncio.AbstractEventLoop | None = None
        ssh_service = None

        def handle_exit(self, sig, frame) -> None:
            # Not uvicorn's: it re-raises the signal after the graceful stop, so the process would end by it
            # (before our clean-up, with status -15) instead of returning 0. A second ctrl+c forces the exit.
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.stop()

        def stop(self) -> None:
            if self.loop is not None and not self.loop.is_closed():
                self.loop.call_soon_threadsafe(hub.close)
            self.should_exit = True

        async def serve(self, sockets=None) -> None:
            self.loop = asyncio.get_running_loop()
            await super().serve(sockets=sockets)

        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if ssh is not None and not self.should_exit:
                from .ssh import SSHService

                self.ssh_service = SSHService(hub, ssh)
                await self.ssh_service.start()

        async def shutdown(self, sockets=None) -> None:
            if self.ssh_service is not None:
                try:
                    await self.ssh_service.stop()
                except Exception:  # the HTTP side must still stop
                    log.exception("ssh: the SSH side did not stop cleanly")
            await super().shutdown(sockets=sockets)

    config = uvicorn.Config(app, log_config=None, log_level=log_level, access_log=access_log, server_header=False,
                            timeout_graceful_shutdown=3, lifespan="on")
    return HubServer(config)
