"""`gtb users add`, `gtb users list` and `gtb serve` on the command line (in their own processes,
as an administrator runs them), and the portal's configuration: the reporting cycle, the
database URL, the secret key."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import cycle
from pipeline.errors import GtbError
from pipeline.portal import state
from tests import processes

ROOT = Path(__file__).resolve().parent.parent


def gtb(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GTB_PORTAL_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_users_add_and_list_in_the_outputs_state_folder(tmp_path):
    out = tmp_path / "out"
    added = gtb("users", "add", "amina", "--entity", "UNEP", "--entity", "unon", "--outputs", str(out))
    assert added.returncode == 0, added.stderr
    assert "added amina: focal point of UNEP, UNON" in added.stdout
    password = added.stdout.split("password: ")[1].strip()
    assert len(password) == 16
    quiet = gtb(
        "users", "add", "sun", "--analyst", "--password-stdin", "--outputs", str(out), stdin="a secret long enough\n"
    )
    assert quiet.returncode == 0 and "password" not in quiet.stdout and "secret" not in quiet.stdout
    listed = gtb("users", "list", "--outputs", str(out))
    lines = listed.stdout.splitlines()
    assert lines == [
        "amina\tfocal point\tUNEP, UNON\tlast sign-in never",
        "sun\tanalyst\tevery entity\tlast sign-in never",
    ]
    for private in ("secret_key", "portal.sqlite3"):
        assert stat.S_IMODE((out / "portal" / private).stat().st_mode) == 0o600, private


@pytest.mark.parametrize(
    "args, says",
    [
        (["users", "add", "x1", "--entity", "NOPE"], "unknown entity code(s): NOPE"),
        (["users", "add", "x2"], "one of the arguments --entity --analyst is required"),
        (["users", "add", "x3", "--entity", "UNEP", "--analyst"], "not allowed with argument"),
        (["users", "add", "../x", "--analyst"], "a user name is"),
        (["users", "add", "x4", "--entity", ""], "give either --entity CODE"),  # a focal point of nothing
        (["users", "add", "x5", "--entity", " ", "--entity", "\t"], "give either --entity CODE"),
    ],
)
def test_users_add_refuses_what_it_cannot_do_in_one_line(tmp_path, args, says):
    done = gtb(*args, "--outputs", str(tmp_path))
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr


def test_users_add_refuses_a_weak_password_and_an_existing_name_unless_replaced(tmp_path):
    weak = gtb("users", "add", "amina", "--analyst", "--password-stdin", "--outputs", str(tmp_path), stdin="1234\n")
    assert weak.returncode == 2 and "password refused" in weak.stderr
    assert gtb("users", "add", "amina", "--analyst", "--outputs", str(tmp_path)).returncode == 0
    again = gtb("users", "add", "amina", "--entity", "WFP", "--outputs", str(tmp_path))
    assert again.returncode == 2 and "exists" in again.stderr
    reset = gtb("users", "add", "amina", "--entity", "WFP", "--replace", "--outputs", str(tmp_path))
    assert reset.returncode == 0 and "reset amina: focal point of WFP" in reset.stdout


@pytest.mark.parametrize(
    "name, password",
    [("amina.otieno", "amina.otieno"), ("amina.otieno", "Amina.Otieno1"), ("blank.pass", " " * 12)],
)
def test_users_add_refuses_a_password_like_the_user_name_or_of_spaces_only(tmp_path, name, password):
    done = gtb("users", "add", name, "--entity", "UNEP", "--password-stdin", "--outputs", str(tmp_path), stdin=password)
    assert done.returncode == 2 and "password refused" in done.stderr and "Traceback" not in done.stderr


def test_serve_without_its_inputs_folder_says_so(tmp_path):
    done = gtb("serve", "--inputs", str(tmp_path / "nowhere"), "--outputs", str(tmp_path / "out"), "--port", "1")
    assert done.returncode == 2 and "inputs folder not found" in done.stderr


@pytest.mark.skipif(not processes.AVAILABLE, reason="the processes are looked up in /proc")
@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["term", "int"])
def test_serve_stops_on_sigterm_as_on_ctrl_c(tmp_path, sent):
    """`systemctl stop`, `docker stop` send SIGTERM: the portal ended at once with exit code -15,
    its temporary files left behind. Now SIGTERM stops it as Ctrl-C does: waitress stops serving,
    "portal stopped" (which Ctrl-C did not print either: waitress took the KeyboardInterrupt),
    exit code 0, no process or temporary file left."""
    (tmp_path / "inputs").mkdir()
    temp = tmp_path / "temp"  # the server's own temporary folder
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GTB_PORTAL_", "DJANGO_"))}
    env.update(TMPDIR=str(temp), PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "pipeline.cli", "serve", "--port", "0", "--inputs", str(tmp_path / "inputs")]
    server = subprocess.Popen(
        [*command, "--outputs", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert server.stdout is not None and server.stderr is not None
    try:
        assert server.stdout.readline().startswith("portal at ")
        said = ""  # until the warm-up (a blank workbook checked by the workers) has ended
        while not ("ready for uploads" in said or "warm-up failed" in said):
            line = server.stderr.readline()
            if not line:
                break
            said += line
        assert "ready for uploads" in said, said
        deadline = time.monotonic() + 30  # said just before its own folder is removed
        while list(temp.glob("gtb-portal-warm-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        started = processes.descendants(server.pid)
        assert started, "the workers' fork server is running"
        server.send_signal(sent)
        out, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert (server.returncode, out) == (0, "portal stopped\n"), err
    assert "Traceback" not in err, err
    assert not processes.left_after(started, 30)
    assert list(temp.iterdir()) == []


def test_the_reporting_cycle_is_read_from_the_inputs_or_the_repository(tmp_path):
    repo = cycle.reporting_cycle(tmp_path)  # no file of its own: the repository's
    assert repo.source == cycle.DEFAULT and repo.deadline.year >= repo.open_year
    own = tmp_path / "reporting_cycle.toml"
    own.write_text('[cycle]\nopen_year = 2030\ndeadline = 2031-03-31\n[contact]\nname = "SUN"\nemail = "s@x.org"\n')
    found = cycle.reporting_cycle(tmp_path)
    assert (found.open_year, found.deadline.isoformat(), found.contact_email) == (2030, "2031-03-31", "s@x.org")
    assert found.on_time(found.deadline) and not found.on_time(found.deadline.replace(day=1, month=4))
    own.write_text('[cycle]\nopen_year = "soon"\ndeadline = "2031-03-31"\n[contact]\nname = "SUN"\nemail = "s"\n')
    with pytest.raises(GtbError, match="open_year must be a year"):
        cycle.reporting_cycle(tmp_path)
    own.write_text('[cycle]\nopen_year = 2030\ndeadline = "31/03/2031"\n[contact]\nname = "SUN"\nemail = "s"\n')
    with pytest.raises(GtbError, match="deadline must be an ISO date"):
        cycle.reporting_cycle(tmp_path)
    own.write_text("[cycle]\nopen_year = 2030\n")
    with pytest.raises(GtbError, match="deadline is missing"):
        cycle.reporting_cycle(tmp_path)
    names = '[contact]\nname = "SUN"\nname_fr = "le SUN"\nemail = "s@x.org"\n'
    own.write_text("[cycle]\nopen_year = 2030\ndeadline = 2031-03-31\n" + names)
    found = cycle.reporting_cycle(tmp_path)
    assert [found.contact_in(lang) for lang in ("en", "fr", "es", None)] == ["SUN", "le SUN", "SUN", "SUN"]
    own.write_text("[cycle]\nopen_year = 2030\ndeadline = 2031-03-31\n" + names.replace("name_fr", "name_de"))
    with pytest.raises(GtbError, match="name_de: no such language"):
        cycle.reporting_cycle(tmp_path)


def test_the_database_is_sqlite_in_the_state_folder_or_postgres_from_its_url(tmp_path):
    assert state.database_settings(None, tmp_path)["NAME"] == str(tmp_path / "portal.sqlite3")
    pg = state.database_settings("postgres://gtb:p%40ss@db.example:5433/portal", tmp_path)
    assert (pg["ENGINE"], pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "django.db.backends.postgresql",
        "portal",
        "gtb",
        "p@ss",
        "db.example",
        "5433",
    )
    with pytest.raises(GtbError, match="postgres://"):
        state.database_settings("mysql://x/y", tmp_path)
    with pytest.raises(GtbError, match="names no database"):
        state.database_settings("postgres://host/", tmp_path)


def test_the_secret_key_is_made_once_and_kept(tmp_path):
    first = state.secret_key(tmp_path / "s")
    assert len(first) >= 40 and state.secret_key(tmp_path / "s") == first
    assert stat.S_IMODE((tmp_path / "s" / "secret_key").stat().st_mode) == 0o600
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert not [f for f in tracked if f.endswith("secret_key") or f.endswith(".sqlite3")]


def test_users_list_of_a_folder_without_a_portal_makes_nothing_and_says_so(tmp_path):
    done = gtb("users", "list", "--outputs", str(tmp_path / "typo"))
    assert done.returncode == 2 and "no portal under" in done.stderr and not (tmp_path / "typo").exists()


def test_a_portal_database_that_is_no_database_is_one_line_and_left_untouched(tmp_path):
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "portal.sqlite3").write_bytes(b"not a database at all\n" * 100)
    done = gtb("users", "list", "--outputs", str(tmp_path))
    assert done.returncode == 2 and "cannot be opened" in done.stderr and "internal error" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert (tmp_path / "portal" / "portal.sqlite3").read_bytes() == b"not a database at all\n" * 100


def test_users_disable_ends_sign_in_keeps_the_account_and_replace_enables_it(tmp_path):
    out = str(tmp_path)
    assert gtb("users", "add", "amina", "--entity", "UNEP", "--outputs", out).returncode == 0
    off = gtb("users", "disable", "AMINA", "--outputs", out)  # a name as typed, any case
    assert off.returncode == 0 and "disabled amina" in off.stdout, off.stderr
    assert gtb("users", "list", "--outputs", out).stdout.splitlines() == [
        "amina\tfocal point\tUNEP\tlast sign-in never\tdisabled"
    ]
    again = gtb("users", "disable", "amina", "--outputs", out)  # twice: still disabled, said once in the log
    assert again.returncode == 0
    unknown = gtb("users", "disable", "nobody", "--outputs", out)
    assert unknown.returncode == 2 and "no user nobody" in unknown.stderr
    nowhere = gtb("users", "disable", "amina", "--outputs", str(tmp_path / "typo"))
    assert nowhere.returncode == 2 and "no portal under" in nowhere.stderr and not (tmp_path / "typo").exists()
    on = gtb("users", "add", "amina", "--entity", "UNEP", "--replace", "--outputs", out)
    assert on.returncode == 0
    listed = gtb("users", "list", "--outputs", out).stdout.splitlines()
    assert listed == ["amina\tfocal point\tUNEP\tlast sign-in never"]
