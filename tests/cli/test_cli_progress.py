"""CLI progress: a tqdm bar on a terminal, whole periodic lines in a pipe or log file."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from nurture.cli.progress import Progress
from tests.cli_helpers import cli_env, run_cli  # noqa: F401  (cli_env is a fixture)
from tests.test_importer import write_csv

REPO = Path(__file__).resolve().parents[2]
# What a redrawn bar or a colour leaves in a log: none of it belongs in a plain line.
CONTROL = re.compile(r"[\r\x1b]")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def people_csv(tmp_path: Path, rows: int) -> Path:
    return write_csv(
        tmp_path / "people.csv",
        [["email", "first_name"], *([f"p{n}@example.com", f"P{n}"] for n in range(rows))],
    )


def test_off_a_terminal_each_update_is_one_whole_line_when_the_interval_has_passed() -> None:
    stream = io.StringIO()
    with Progress(unit="rows", stream=stream, interval=0) as shown:
        for done in (1000, 2000, 2500):
            shown.update("imported", done, 2500)
        shown.update("demo:", 4, 4, unit="users")
    assert stream.getvalue().splitlines() == [
        "imported 1,000 of 2,500 rows",
        "imported 2,000 of 2,500 rows",
        "imported 2,500 of 2,500 rows",
        "demo: 4 of 4 users",
    ]


def test_off_a_terminal_lines_are_periodic_but_the_end_of_each_stage_is_always_written() -> None:
    stream = io.StringIO()
    with Progress(unit="rows", stream=stream, interval=3600) as shown:
        for done in range(100, 1001, 100):
            shown.update("imported", done, 1000)
        shown.update("imported", 1000, 1000)
    assert stream.getvalue().splitlines() == [
        "imported 100 of 1,000 rows",
        "imported 1,000 of 1,000 rows",
    ]


def test_on_a_terminal_it_draws_a_tqdm_bar() -> None:
    stream = FakeTerminal()
    with Progress(unit="rows", stream=stream) as shown:
        shown.update("imported", 500, 1000)
    drawn = stream.getvalue()
    assert "\r" in drawn
    # tqdm redraws at most every 0.1 s, so the bar may show 0/1000 rather than 500.
    assert re.search(r"imported rows: +\d+%\|.*\| \d+/1000", drawn), drawn


@pytest.mark.usefixtures("cli_env")
def test_import_command_off_a_terminal_writes_plain_progress_lines(tmp_path: Path) -> None:
    result = run_cli("import", "contacts", str(people_csv(tmp_path, 2500)))
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "people.csv: imported 1,000 of 2,500 rows"
    assert lines[-1] == "people.csv: imported 2,500 of 2,500 rows"
    assert not CONTROL.search(result.stderr)
    assert "created        2,500" in result.stdout


@pytest.mark.usefixtures("cli_env")
def test_import_dry_run_says_it_checked_rather_than_imported(tmp_path: Path) -> None:
    result = run_cli("import", "contacts", str(people_csv(tmp_path, 3)), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["people.csv: checked 3 of 3 rows"]


def test_import_command_on_a_terminal_draws_a_bar(db_url: str, tmp_path: Path) -> None:
    path = people_csv(tmp_path, 2500)
    env = {
        **os.environ,
        "NURTURE_DATABASE_URL": db_url,
        "NURTURE_DATA_DIR": str(tmp_path),
        "NURTURE_SECRET_KEY": "s" * 40,
    }
    # A new pty reports a size of 0 x 0, which must still get a visible bar.
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "nurture.cli", "import", "contacts", str(path)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=follower,
        )
        # Only the child holds the terminal now, so reading ends when it exits; reading
        # while it runs keeps it from blocking on a full terminal buffer.
        os.close(follower)
        drawn = _read_all(leader)
        stdout, _ = process.communicate(timeout=120)
    finally:
        os.close(leader)
    assert process.returncode == 0, drawn
    assert re.search(r"people\.csv: imported rows: +\d+%\|.*\| [\d,]+/2500", drawn), drawn
    assert "\r" in drawn
    assert b"created        2,500" in stdout


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # Linux answers EIO once the other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.usefixtures("cli_env")
def test_demo_command_off_a_terminal_writes_each_stage_as_a_plain_line() -> None:
    result = run_cli("demo", "--scale", "0.01")
    assert result.exit_code == 0, result.output
    assert not CONTROL.search(result.stderr)
    lines = result.stderr.splitlines()
    for stage in ("users", "companies", "contacts", "contacts' histories"):
        assert any(re.fullmatch(rf"demo: ([\d,]+) of \1 {stage}", line) for line in lines), lines


@pytest.mark.usefixtures("cli_env")
def test_rejected_out_says_when_there_were_no_rejected_lines(tmp_path: Path) -> None:
    out = tmp_path / "rejected.csv"
    clean = run_cli("import", "contacts", str(people_csv(tmp_path, 3)), "--rejected-out", str(out))
    assert clean.exit_code == 0, clean.output
    assert f"no rejected lines; {out} holds only its header" in clean.stdout
    assert "written" not in clean.stdout
    assert out.read_text().splitlines() == ["line,reason"]
    bad = write_csv(tmp_path / "bad.csv", [["email"], ["ok@example.com"], ["nope@"]])
    one = run_cli("import", "contacts", str(bad), "--rejected-out", str(out))
    assert f"all 1 rejected line written to {out}" in one.stdout


def test_version_prints_the_installed_version() -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.output == f"nurture {version('nurture')}\n"
