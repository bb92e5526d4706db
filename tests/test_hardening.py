"""What a review of the SSH way in asked for, outside the SSH server itself: a client run for someone over SSH
reads no files of the hub's machine, a key not marked facilitator never takes the facilitator's seat, a rotated
token ends the streams opened with the old one, one data folder is one person, the hub's database is private,
and the serve options say what is wrong with them."""

from __future__ import annotations

import stat

import httpx
import pytest

from agile_tui.cli import main as cli
from agile_tui.server.hub import HubError
from agile_tui.server.service import Hub
from agile_tui.ui.screens.metrics import read_small_file

from .conftest import make_test_app
from .hubkit import running_hub, share, team_state
from .syncit import join_room, share_room


def test_a_device_a_pipe_or_a_huge_file_is_never_read(tmp_path):
    with pytest.raises(ValueError, match="not a regular file"):
        read_small_file("/dev/zero", 1000)
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(ValueError, match="limit"):
        read_small_file(big, 1000)
    assert read_small_file(big, 5000) == b"x" * 2000


async def test_a_client_run_over_ssh_imports_no_file_of_the_hubs_machine(session, monkeypatch):
    monkeypatch.setenv("AGILE_TUI_RESTRICTED", "1")
    app = make_test_app(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert type(app.screen).__name__ == "MetricsScreen"  # no file dialog
        assert any("not available over SSH" in str(n.message) for n in app._notifications)


def test_a_key_not_marked_facilitator_never_takes_the_facilitators_seat(tmp_path):
    hub = Hub(tmp_path)
    created = hub.create_room(team_state().to_dict(), "Ana", None)
    with pytest.raises(HubError, match="facilitator"):
        hub.admit_person(created["room"], "ana")
    who, _ = hub.admit_person(created["room"], "Ana", facilitator=True)
    assert who.facilitator
    hub.close()
    hub.log.close()
    assert stat.S_IMODE((tmp_path / "hub.sqlite3").stat().st_mode) == 0o600


def test_a_rotated_token_ends_the_streams_opened_with_the_old_one(tmp_path):
    with running_hub(tmp_path / "hub") as hub:
        room = share(hub.url)
        rid, old = room["room"], room["facilitator_token"]
        with httpx.stream("GET", f"{hub.url}/v1/rooms/{rid}/events", headers={"Authorization": f"Bearer {old}"},
                          timeout=10) as response:
            lines = response.iter_lines()
            assert next(lines).startswith("event: hello")
            hub.app.state.hub.admit_person(rid, "Ana", facilitator=True)  # an SSH login as Ana: a new token
            rest = list(lines)  # the stream ends (no more than a few lines)
        assert not any("data:" in line and '"op"' in line for line in rest)
        assert httpx.get(f"{hub.url}/v1/rooms/{rid}/snapshot", headers={"Authorization": f"Bearer {old}"},
                         timeout=10).status_code == 401


def test_one_data_folder_is_one_person(tmp_path, capsys):
    with running_hub(tmp_path / "hub") as hub:
        invite = share_room(hub.url, tmp_path / "ana")
        join_room(invite, tmp_path / "shared-account", "Priya")
        capsys.readouterr()
        assert cli(["join", invite, "--name", "Ben", "--data-dir", str(tmp_path / "shared-account"),
                    "--no-open"]) == 1
        assert "joined that room as Priya" in capsys.readouterr().err


def test_serve_says_which_options_go_together(capsys):
    assert cli(["serve", "--ssh-room-limit", "5"]) == 2
    assert "go with --ssh-port" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["serve", "--ssh-port", "2222", "--ssh-room-limit", "0"])
    assert "at least 1" in capsys.readouterr().err
