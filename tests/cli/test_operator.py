"""The operator's commands: verify (and its repair), export, import, backup, check."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from civicledger.cli.main import EXIT_AUDIT, EXIT_FAULT, cli
from civicledger.core import encoding


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVIC_PASSPHRASE", "demo")
    path = tmp_path / "data"
    assert CliRunner().invoke(cli, ["--data", str(path), "init", "--demo"]).exit_code == 0
    return path


def civic(data, *args: str):
    return CliRunner().invoke(cli, ["--data", str(data), *args])


def test_verify_reports_an_inflated_balance_and_does_not_repair_state(data):
    with sqlite3.connect(data / "ledger.db") as conn:
        key, value = conn.execute(
            "SELECT key, value FROM state WHERE instr(key, 'balance') ORDER BY key").fetchone()
        amount = encoding.decode(value, max_size=64)
        conn.execute("UPDATE state SET value = ? WHERE key = ?",
                     (encoding.encode(amount + 10**12), key))
    for args in (("verify",), ("verify", "--repair-indexes")):
        result = civic(data, *args)
        assert result.exit_code == EXIT_AUDIT, result.output
        assert "state: 1 row(s) differ" in result.output
        assert f"live {amount + 10**12}, replayed {amount}" in result.output


def test_a_lost_index_row_stops_the_node_until_verify_repairs_it(data):
    with sqlite3.connect(data / "ledger.db") as conn:
        (head,) = conn.execute("SELECT MAX(height) FROM blocks").fetchone()
        conn.execute("DELETE FROM txs WHERE height = ?", (head,))
    refused = civic(data, "balance", "minji")
    assert refused.exit_code == EXIT_FAULT
    assert "index_damaged" in refused.output and "civic verify --repair-indexes" in refused.output
    assert civic(data, "check").exit_code == EXIT_AUDIT
    found = civic(data, "verify")
    assert found.exit_code == EXIT_AUDIT and "txs:" in found.output
    repaired = civic(data, "verify", "--repair-indexes")
    assert repaired.exit_code == 0, repaired.output
    assert "indexes rebuilt" in repaired.output
    assert civic(data, "balance", "minji").exit_code == 0
    assert civic(data, "check").exit_code == 0


def test_export_import_backup_and_check(data, tmp_path):
    assert civic(data, "check").exit_code == 0
    exported = civic(data, "export", str(tmp_path / "chain.civic"))
    assert exported.exit_code == 0, exported.output
    assert civic(data, "export", str(tmp_path / "chain.civic")).exit_code == EXIT_FAULT  # no overwrite
    copy = tmp_path / "copy"
    imported = civic(copy, "import", str(tmp_path / "chain.civic"))
    assert imported.exit_code == 0, imported.output
    assert civic(copy, "verify").exit_code == 0
    assert civic(copy, "block", "latest").output == civic(data, "block", "latest").output
    assert civic(copy, "import", str(tmp_path / "chain.civic")).exit_code == EXIT_FAULT  # not empty

    bad = bytearray((tmp_path / "chain.civic").read_bytes())
    bad[-100] ^= 0x01
    (tmp_path / "bad.civic").write_bytes(bytes(bad))
    refused = civic(tmp_path / "other", "import", str(tmp_path / "bad.civic"))
    assert refused.exit_code == EXIT_AUDIT, refused.output
    assert not (tmp_path / "other" / "ledger.db").exists()

    saved = civic(data, "backup", str(tmp_path / "saved"))
    assert saved.exit_code == 0, saved.output
    assert civic(tmp_path / "saved", "verify").exit_code == 0
    assert civic(data, "backup", str(tmp_path / "saved")).exit_code == EXIT_FAULT  # not empty


def test_help_lists_the_operator_commands():
    shown = CliRunner().invoke(cli, ["--help"]).output
    for command in ("verify", "export", "import", "backup", "check"):
        assert f"  {command} " in shown, command
