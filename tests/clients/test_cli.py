"""The ``makersync`` command against a real daemon in-process: exit codes
scripts can trust, ``--json`` output, one-line errors."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from cli_fixtures import days_ago, runner, start_daemon

from makersync.clients import cli


def new_account(ms, name="Ada's Studio", plan="studio", start=None):
    r = ms("accounts", "create", "--name", name, "--plan", plan,
           "--start-date", start or days_ago(90), "--time-zone", "Europe/Berlin")
    assert r.code == 0, r.err
    return r.json()


def connect(ms, daemon, account_id):
    r = ms("connect", account_id, "etsy", *daemon.creds(), "--name", "Ada on Etsy")
    assert r.code == 0, r.err
    return r.json()


def test_accounts_create_get_update_list_as_json(ms):
    account = new_account(ms)
    assert account["name"] == "Ada's Studio" and account["plan"] == "studio"
    assert ms("accounts", "get", account["id"]).json()["time_zone"] == "Europe/Berlin"
    updated = ms("accounts", "update", account["id"], "--plan", "business").json()
    assert updated["plan"] == "business" and updated["max_stores"] == 25
    listed = ms("accounts", "list").json()
    assert [a["id"] for a in listed["accounts"]] == [account["id"]]


def test_bad_date_exits_2_with_one_line_naming_the_field(ms):
    r = ms("accounts", "create", "--name", "A", "--plan", "trial", "--start-date", "2026/01/01",
           "--time-zone", "UTC")
    assert r.code == 2
    assert r.err.startswith("error: INVALID_ARGUMENT: start_date:")
    assert r.err.count("\n") == 1 and r.out == ""


def test_unknown_account_exits_3(ms):
    r = ms("accounts", "get", "424242")
    assert (r.code, r.err.split(":")[1].strip()) == (3, "NOT_FOUND")


def test_usage_errors_exit_2(ms):
    assert ms("accounts", "create", "--name", "A").code == 2
    assert ms("no-such-command").code == 2
    assert ms("configure", "1", "etsy", "--automatic-updates", "maybe").code == 2


def test_daemon_not_running_exits_6_and_says_how_to_start_it(capsys):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = cli.main(["--address", f"127.0.0.1:{port}", "--timeout", "2", "accounts", "list"])
    err = capsys.readouterr().err
    assert code == 6
    assert "makersyncd" in err and err.startswith("error: UNAVAILABLE")


@pytest.mark.parametrize("argv", [
    ["--json", "accounts", "list"],
    ["accounts", "list", "--json"],
    ["accounts", "--json", "list"],
])
def test_json_is_taken_before_or_after_the_command(ms_tables, ms, argv):
    account = new_account(ms)
    r = ms_tables(*argv)
    assert r.code == 0, r.err
    assert [a["id"] for a in r.json()["accounts"]] == [account["id"]]


def test_global_flags_after_the_command_are_used_and_do_not_undo_those_before(capsys):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = cli.main(["--json", "accounts", "list", "--address", f"127.0.0.1:{port}", "--timeout", "2"])
    err = capsys.readouterr().err
    assert code == 6 and f"127.0.0.1:{port}" in err  # --address after the command was used
    args = cli.build_parser().parse_args(["--json", "--timeout", "3", "channels"])
    assert (args.json, args.timeout, args.address) == (True, 3.0, None)  # not reset by the subcommand
    args = cli.build_parser().parse_args(["channels", "--key", "k"])
    assert (args.json, args.timeout, args.key) == (False, cli.DEFAULT_TIMEOUT_S, "k")


def test_locations_and_configure(ms):
    account = new_account(ms, plan="business")
    location = ms("locations", "create", account["id"], "Studio").json()
    assert ms("locations", "create", account["id"], "Studio").code == 4  # ALREADY_EXISTS
    assert [x["name"] for x in ms("locations", "list", account["id"]).json()["locations"]] == ["Studio"]
    integ = ms("configure", account["id"], "etsy", "--automatic-updates", "off",
               "--default-location", location["id"]).json()
    assert integ["automatic_updates"] is False and integ["default_location_id"] == location["id"]
    cleared = ms("configure", account["id"], "etsy", "--default-location", "").json()
    assert cleared["default_location_id"] == ""


def test_default_location_on_a_plan_without_it_exits_4(ms):
    account = new_account(ms, plan="trial", start=days_ago(10))
    location = ms("locations", "create", account["id"], "Studio").json()
    r = ms("configure", account["id"], "etsy", "--default-location", location["id"])
    assert r.code == 4 and "FAILED_PRECONDITION" in r.err


def test_channels_lists_the_installed_plugins(ms):
    names = [c["name"] for c in ms("channels").json()["channels"]]
    assert {"etsy", "shopify", "amazon"} <= set(names)


def test_connect_pull_and_read_the_books(ms, daemon, tmp_path: Path):
    account = new_account(ms)
    store = connect(ms, daemon, account["id"])
    assert store["name"] == "Ada on Etsy" and store["initial_pull_id"]
    initial = ms("watch", store["initial_pull_id"]).json()
    assert initial["state"] == "PULL_STATE_SUCCEEDED", initial["error"]

    manual = ms("pull", store["id"], "--from", days_ago(10), "--to", days_ago(0))
    assert manual.code == 0, manual.err
    assert manual.json()["state"] == "PULL_STATE_SUCCEEDED"
    pulls = ms("pulls", store["id"]).json()["pulls"]
    assert [p["kind"] for p in pulls] == ["PULL_KIND_MANUAL", "PULL_KIND_INITIAL"]

    orders = ms("orders", account["id"], "--limit", "0").json()["orders"]
    assert orders and all(o["store_id"] == store["id"] for o in orders)
    assert all("." in o["total"]["amount"] or o["total"]["amount"].isdigit() for o in orders)
    first = orders[0]["id"]
    assert ms("order", "get", first).json()["id"] == first
    copy = ms("order", "copy", first).json()
    assert copy["store_id"] == "" and copy["copied_from_order_id"] == first
    edited = ms("order", "edit", first, "--note", "gift wrap", "--status", "shipped").json()
    assert edited["locally_edited"] is True and edited["note"] == "gift wrap"
    assert ms("order", "delete", copy["id"]).json() == {"deleted": "order", "id": copy["id"]}
    assert ms("order", "get", copy["id"]).code == 3

    products = ms("products", account["id"]).json()["products"]
    assert products and ms("product", "get", products[0]["id"]).json()["listings"]
    mine = ms("product", "create", account["id"], "--title", "Blue mug", "--sku", "MUG-B").json()
    listing = products[0]["listings"][0]["id"]
    moved = ms("move-listing", listing, mine["id"]).json()
    assert moved["product_id"] == mine["id"] and moved["matched_by"] == "MATCHED_BY_MOVED"

    fees = ms("fees", account["id"], "--limit", "0").json()["fees"]
    if fees:
        assert ms("fee", "delete", fees[0]["id"]).code == 0

    out_dir = tmp_path / "export"
    exported = ms("export", account["id"], "--out", str(out_dir)).json()
    with (out_dir / "orders.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == exported["rows"]["orders.csv"] == len(orders)  # the copy was deleted
    unrefunded = [r for r in rows if Decimal(r["refunded"]) == 0]
    assert unrefunded and all(  # "0.00" beside a "12.50" total, not "0"
        Decimal(r["refunded"]).as_tuple().exponent == Decimal(r["total"]).as_tuple().exponent for r in unrefunded
    )
    assert {"orders.csv", "order_lines.csv", "fees.csv", "products.csv"} == {p.name for p in out_dir.iterdir()}
    assert exported["rows"]["order_lines.csv"] >= len(orders)

    status = ms("status", "--account", account["id"]).json()
    assert [s["store_id"] for s in status["stores"]] == [store["id"]]
    removed = ms("disconnect", store["id"]).json()
    assert removed["orders_removed"] == len(orders)
    assert ms("store", store["id"]).code == 3


def one_error_line(r) -> str:
    assert "Traceback" not in r.err and r.err.startswith("error: ") and r.err.count("\n") == 1, r.err
    return r.err.strip()


def test_export_into_a_file_or_an_impossible_folder_exits_2_with_one_line(ms, tmp_path: Path):
    account = new_account(ms)
    a_file = tmp_path / "taken"
    a_file.write_text("keep me")
    r = ms("export", account["id"], "--out", str(a_file))
    assert r.code == 2 and one_error_line(r) == f"error: --out {a_file}: is a file, not a folder"
    assert a_file.read_text() == "keep me"
    r = ms("export", account["id"], "--out", str(a_file / "sub"))  # a folder under a file
    assert r.code == 2 and "cannot create the folder: Not a directory" in one_error_line(r)
    if Path("/proc/self").exists():
        r = ms("export", account["id"], "--out", "/proc/nope")
        assert r.code == 2 and one_error_line(r).startswith("error: --out /proc/nope: cannot create the folder")
    # The account is checked first: an unknown one is NOT_FOUND, whatever --out says.
    assert ms("export", "424242", "--out", str(a_file)).code == 3


def test_export_that_cannot_write_a_later_file_exits_1_with_one_line(ms, tmp_path: Path):
    account = new_account(ms)
    out_dir = tmp_path / "export"
    (out_dir / "fees.csv").mkdir(parents=True)  # orders go in, then fees.csv cannot be opened
    r = ms("export", account["id"], "--out", str(out_dir))
    assert r.code == 1 and one_error_line(r) == f"error: {out_dir / 'fees.csv'}: Is a directory"


def test_cred_from_a_missing_or_binary_file_exits_2_with_one_line(ms, tmp_path: Path):
    account = new_account(ms)
    missing = tmp_path / "no-such-token"
    r = ms("connect", account["id"], "etsy", "--cred", f"access_token=@{missing}")
    assert r.code == 2
    assert one_error_line(r) == f"error: --cred access_token: cannot read {missing}: No such file or directory"
    binary = tmp_path / "token.bin"
    binary.write_bytes(b"\xff\xfe\x00token")
    r = ms("connect", account["id"], "etsy", "--cred", f"access_token=@{binary}")
    assert r.code == 2 and one_error_line(r) == f"error: --cred access_token: {binary} is not UTF-8 text"


def test_pull_range_longer_than_30_days_exits_2(ms, daemon):
    account = new_account(ms)
    store = connect(ms, daemon, account["id"])
    r = ms("pull", store["id"], "--from", days_ago(40), "--to", days_ago(0), "--no-wait")
    assert r.code == 2 and "30 days" in r.err


@pytest.fixture
def solo(tmp_path: Path, capsys):
    """A daemon whose plan table has a one-store plan 'solo'."""
    toml = '[plans.solo]\nautomatic = "none"\nlookback_days = 30\nmax_stores = 1\ndefault_location_allowed = false\n'
    for d in start_daemon(tmp_path, toml):
        yield d, runner(d.address, capsys, "--json")


def test_connect_beyond_the_plan_limit_exits_4_and_changes_nothing(solo):
    daemon, ms = solo
    account = new_account(ms, plan="solo", start=days_ago(10))
    assert ms("connect", account["id"], "etsy", *daemon.creds()).code == 0
    r = ms("connect", account["id"], "shopify", *daemon.creds("shopify"))
    assert r.code == 4 and r.err.startswith("error: RESOURCE_EXHAUSTED:")
    integrations = ms("integrations", account["id"]).json()["integrations"]
    assert sum(len(i["stores"]) for i in integrations) == 1


def test_connecting_the_same_shop_again_is_a_reconnect(ms, daemon):
    account = new_account(ms, plan="trial", start=days_ago(10))
    first = ms("connect", account["id"], "etsy", *daemon.creds())
    again = ms("connect", account["id"], "etsy", *daemon.creds())
    assert again.code == 0 and again.json()["id"] == first.json()["id"]


def test_credentials_never_reach_the_log_or_the_output(ms, daemon):
    account = new_account(ms)
    store = connect(ms, daemon, account["id"])
    ms("watch", store["initial_pull_id"])
    shown = ms("store", store["id"]).out + ms("integrations", account["id"]).out
    log = daemon.log_path.read_text()
    secrets = {k: v for k, v in daemon.sims["etsy"].credentials().items()
               if k in ("shared_secret", "access_token", "refresh_token")}
    for value in secrets.values():
        assert value not in log and value not in shown


def test_connect_with_a_missing_credential_names_it(ms):
    account = new_account(ms)
    r = ms("connect", account["id"], "etsy", "--cred", "keystring=abc")
    assert r.code == 2 and "credentials." in r.err


def test_cred_from_a_file_and_bad_cred_syntax(ms, daemon, tmp_path: Path):
    account = new_account(ms)
    secret_file = tmp_path / "token"
    creds = daemon.sims["etsy"].credentials()
    secret_file.write_text(creds["access_token"] + "\n")
    args = []
    for name, value in creds.items():
        args += ["--cred", f"{name}=@{secret_file}" if name == "access_token" else f"{name}={value}"]
    assert ms("connect", account["id"], "etsy", *args).code == 0
    assert ms("connect", account["id"], "etsy", "--cred", "novalue").code == 2


@pytest.mark.parametrize("command", [["accounts", "list"], ["channels"], ["status"]])
def test_tables_for_people_by_default(ms_tables, command):
    r = ms_tables(*command)
    assert r.code == 0 and r.out.strip() and not r.out.lstrip().startswith("{")


def test_status_watch_refreshes_until_stopped(ms, daemon):
    new_account(ms)
    r = ms("status", "--watch", "--count", "2")
    lines = [line for line in r.out.splitlines() if line.strip()]
    assert r.code == 0 and len(lines) == 2 and all(line.startswith("{") for line in lines)


def test_pull_with_progress_bar_prints_a_counts_table(ms_tables, ms, daemon):
    account = new_account(ms)
    store = connect(ms, daemon, account["id"])
    r = ms_tables("pull", store["id"], "--from", days_ago(5), "--to", days_ago(0), "--dry-run")
    assert r.code == 0, r.err
    assert "orders_created" in r.out  # the counts table
    assert "succeeded" in r.err and "100%" in r.err  # the progress bar, on stderr


def _with_stdout_closed(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``makersync *argv`` in a process whose stdout's reader has already
    gone, as in ``makersync orders 1 | head -1`` once head has its line."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "makersync.clients.cli", *argv], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "tables"])
def test_closed_stdout_pipe_exits_quietly(ms, daemon, as_json):
    """A reader that stops early (``| head -1``) ends the command without a
    traceback or an error line, with the status of a process ended by SIGPIPE."""
    account = new_account(ms)
    ms("locations", "create", account["id"], "Shelf")
    flags = ["--address", daemon.address, *(["--json"] if as_json else [])]
    for command in (["accounts", "list"], ["locations", "list", account["id"]]):
        done = _with_stdout_closed(*flags, *command)
        assert (done.returncode, done.stderr) == (cli.EXIT_BROKEN_PIPE, ""), command
    helped = _with_stdout_closed(*flags, "--help")  # argparse itself ignores the closed pipe
    assert helped.returncode in (0, cli.EXIT_BROKEN_PIPE) and helped.stderr == ""
