"""Three ``makersyncd`` processes on one PostgreSQL share hundreds of stores
(QUALITY S1): a compressed day of automatic pulls, one daemon killed with
SIGKILL and one paused with SIGSTOP past its lease.

The day is compressed by the test itself: each "hour" it moves the stores'
``next_automatic_pull_at`` into the past (hourly stores every hour, daily ones
at "05:00"), and the daemons' schedulers (``poll_s`` 0.2) queue and run them.
Stores whose real next slot would fall inside the test's few minutes are
moved to the manual-only plan at connect, so every automatic pull counted is
one the test asked for.

Checked: each due slot queued exactly once and run (no more, no less); no
store held by two daemons at once (an audit trigger on the lease table sees
every committed lease change: a claim only of a free or expired lease, and
tokens that only grow); no write accepted from the paused daemon after it
lost its leases (its pulls end "lease lost"); orphaned stores taken over
within the lease time plus one poll; pull rows of a store never overlap.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fleet import START_TIMEOUT_S, Daemon, Sim, Sql, daemon_config, pg_schema, wait_for

from makersync.clients.client import MakersyncClient

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

STORES = 180
LEASE_S = 3.0
POLL_S = 0.2
ROUNDS = 3  # "hours" of the compressed day; the daily stores are due in the first ("05:00")
DAILY_ROUND = 0
KILL_ROUND = 1
PAUSE_ROUND = 2
TEST_WINDOW = timedelta(minutes=5)
SETTLE_S = 0.3
HOURLY_PLANS, DAILY_PLANS = ("growth", "business"), ("trial", "studio", "indie")

AUDIT_SQL = """
CREATE TABLE lease_audit (
    id bigserial PRIMARY KEY, store_id integer, old_owner text, old_token bigint, old_expires timestamp,
    new_owner text, new_token bigint, new_expires timestamp, writer_now timestamp,
    db_time timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION lease_audit_fn() RETURNS trigger AS $$
BEGIN
    INSERT INTO lease_audit (store_id, old_owner, old_token, old_expires, new_owner, new_token,
                             new_expires, writer_now)
    VALUES (NEW.store_id, OLD.owner, OLD.fencing_token, OLD.expires_at, NEW.owner, NEW.fencing_token,
            NEW.expires_at, NEW.heartbeat_at);
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER lease_audit_t AFTER UPDATE ON leases FOR EACH ROW EXECUTE FUNCTION lease_audit_fn();
"""


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from pg_schema()


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _owner_like(daemon: Daemon) -> str:
    return f"%-{daemon.pid}-%"


class Fleet:
    def __init__(self, tmp_path: Path, url: str) -> None:
        self.tmp_path, self.url = tmp_path, url
        # A small shop: the test is about sharing the work, not about ingest speed.
        self.sim = Sim(orders=4, days=5, speed=200.0, latency_s=0.02, catalogue_size=3)
        self.config = daemon_config(tmp_path / "makersyncd.toml", self.sim, workers=4, poll_s=POLL_S,
                                    lease_s=LEASE_S, log_level="warning")
        self.env = {"MAKERSYNC_SECRET_KEY": Fernet.generate_key().decode()}
        self.daemons: list[Daemon] = []
        self.sql: Sql | None = None

    def start(self, name: str) -> Daemon:
        daemon = Daemon(name, self.config, self.tmp_path / name, self.env, self.url)
        self.daemons.append(daemon)
        return daemon

    def close(self) -> None:
        for d in self.daemons:
            d.kill()
            d.dump()
        self.sim.stop()
        if self.sql is not None:
            self.sql.close()


def _connect_one(address: str, index: int, credentials: dict[str, str]) -> dict[str, Any]:
    """An account and its store; a store whose real next slot falls inside the
    test goes to the manual-only plan, so the test alone decides when it is due."""
    kind = ("hourly", "hourly", "hourly", "daily", "daily", "none")[index % 6]
    plan = {"hourly": HOURLY_PLANS[index % 2], "daily": DAILY_PLANS[index % 3], "none": "pro"}[kind]
    far_hour = (datetime.now(UTC).hour + 12) % 24
    with MakersyncClient(address, timeout_s=30) as client:
        account = client.create_account(f"Maker {index}", plan, "2026-01-01", "UTC", daily_pull_hour=far_hour)
        store = client.connect(account.id, "example", credentials)
        if kind != "none" and store.HasField("next_automatic_pull_at"):
            slot = store.next_automatic_pull_at.ToDatetime().replace(tzinfo=None)
            if slot < _utcnow() + TEST_WINDOW:
                client.update_account(account.id, plan="pro")
                kind = "none"
    return {"store_id": int(store.id), "kind": kind}


def test_three_daemons_share_the_stores_through_kill_and_pause(tmp_path: Path, pg_url: str):
    started = time.monotonic()
    fleet = Fleet(tmp_path, pg_url)
    try:
        _run(fleet, started)
    finally:
        fleet.close()


def _run(fleet: Fleet, started: float) -> None:
    d0, d1, d2 = (fleet.start(f"d{i}") for i in range(3))
    addresses = [d.wait_listening() for d in (d0, d1, d2)]
    listening = time.monotonic() - started
    sql = fleet.sql = Sql(fleet.url)
    with sql.conn.cursor() as cur:
        cur.execute(AUDIT_SQL)

    # -- hundreds of stores, connected through any daemon --------------------------
    with ThreadPoolExecutor(12) as pool:
        stores = list(pool.map(lambda i: _connect_one(addresses[i % 3], i, fleet.sim.credentials),
                               range(STORES)))
    connected = time.monotonic() - started
    hourly = [s["store_id"] for s in stores if s["kind"] == "hourly"]
    daily = [s["store_id"] for s in stores if s["kind"] == "daily"]
    assert len(hourly) > 70 and len(daily) > 50
    wait_for(lambda: sql.one("SELECT count(*) FROM pulls WHERE kind = 'initial' AND state = 'succeeded'")
             == STORES, 60, "the initial pulls")
    initial_done = time.monotonic() - started

    # -- a daemon with another credentials key refuses to start, saying why ---------
    stranger = Daemon("wrong-key", fleet.config, fleet.tmp_path / "wrong-key",
                      {"MAKERSYNC_SECRET_KEY": Fernet.generate_key().decode()}, fleet.url)
    assert stranger.proc.wait(START_TIMEOUT_S) == 1
    wait_for(lambda: stranger.stderr, 5, "the refusal on stderr")
    assert "cannot decrypt the credentials of" in stranger.stderr[-1]
    assert "MAKERSYNC_SECRET_KEY" in stranger.stderr[-1]

    # -- a compressed day ------------------------------------------------------------
    expected = 0
    figures: dict[str, Any] = {"stores": STORES, "hourly": len(hourly), "daily": len(daily)}
    restarted: Daemon | None = None
    for round_no in range(ROUNDS):
        due = hourly + (daily if round_no == DAILY_ROUND else [])
        expected += len(due)
        sql.run("UPDATE stores SET next_automatic_pull_at = %s WHERE id = ANY(%s)",
                _utcnow() - timedelta(seconds=1), due)
        if round_no == KILL_ROUND:
            figures["kill"] = _kill_one(sql, d0)
            restarted = fleet.start("d0-restarted")
            restarted.wait_listening()
        if round_no == PAUSE_ROUND:
            figures["pause"] = _pause_one(sql, d1)
        wait_for(lambda n=expected: sql.one(
            "SELECT count(*) FROM pulls WHERE kind = 'automatic' AND state IN ('succeeded', 'failed')") >= n,
            60, f"round {round_no}'s automatic pulls")
        figures[f"round_{round_no}_done_s"] = round(time.monotonic() - started, 1)

    # -- every due pull ran, once ------------------------------------------------------
    time.sleep(2 * POLL_S)
    automatic = sql.rows("SELECT store_id, state FROM pulls WHERE kind = 'automatic'")
    per_store: dict[int, int] = {}
    for store_id, state in automatic:
        assert state == "succeeded", (store_id, state)
        per_store[store_id] = per_store.get(store_id, 0) + 1
    wanted = {**{s: ROUNDS for s in hourly}, **{s: 1 for s in daily}}
    off = {s: (per_store.get(s, 0), wanted.get(s, 0)) for s in set(per_store) | set(wanted)
           if per_store.get(s, 0) != wanted.get(s, 0)}
    assert not off, ("stores with other than their due automatic pulls: (pulled, due)", off, sql.rows(
        "SELECT id, store_id, kind, state, priority, created_at, started_at, finished_at, lease_owner "
        "FROM pulls WHERE store_id = ANY(%s) ORDER BY id", list(off)), figures)
    assert len(automatic) == expected
    assert not {s["store_id"] for s in stores if s["kind"] == "none"} & set(per_store)
    assert sql.one("SELECT count(*) FROM pulls WHERE state IN ('queued', 'running')") == 0

    # -- never two holders at once; fencing held --------------------------------------
    figures["audit"] = _check_audit(sql)
    figures["overlaps"] = _overlapping_pulls(sql)
    assert figures["overlaps"] == 0

    # -- takeover within the lease time plus one poll (and the test's own polling) ----
    for case in ("kill", "pause"):
        assert figures[case]["orphans"] >= 1, figures[case]
        assert figures[case]["takeover_s"] <= LEASE_S + POLL_S + 1.0, figures[case]

    # -- the paused daemon: its old pulls ended "lease lost", it wrote nothing after ---
    pause = figures["pause"]
    wanted = {str(p) for p in pause["pull_ids"]}
    try:
        wait_for(lambda: wanted <= _lost_pulls(d1, pause["t_cont"]), 20, "the paused daemon's 'lease lost'")
    except AssertionError:
        said = [line for when, line in list(d1.log) if when >= pause["t_cont"]
                and any(f'"pull_id": "{p}"' in line for p in wanted)]
        d1.signal(signal.SIGUSR1)  # its threads' stacks, to stderr
        time.sleep(1.0)
        said += d1.stderr[-120:]
        raise AssertionError(("the paused daemon's pulls must end 'lease lost'", wanted,
                              _lost_pulls(d1, pause["t_cont"]), figures, said)) from None
    stale_writes = sum(sql.one(
        "SELECT count(*) FROM lease_audit WHERE store_id = %s AND new_owner = %s AND new_token = %s "
        "AND db_time > to_timestamp(%s)", store_id, pause["owner"], token, pause["t_frozen"])
        for store_id, token in pause["held"])
    assert stale_writes == 0
    figures["pause"]["stale_writes_accepted"] = stale_writes
    figures["pause"]["writes_refused"] = len(pause["pull_ids"])

    # -- everyone stops cleanly ---------------------------------------------------------
    for daemon in (d1, d2, restarted):
        assert daemon is not None
        code, took = daemon.terminate(20)
        assert code == 0, (daemon.name, daemon.stderr[-5:])
    figures["pulls_run"] = len(automatic) + STORES
    figures["listening_s"] = round(listening, 1)
    figures["connected_s"] = round(connected, 1)
    figures["initial_pulls_s"] = round(initial_done, 1)
    figures["total_s"] = round(time.monotonic() - started, 1)
    print("\nseveral daemons:", {k: v for k, v in figures.items()})


LEASE_LOST_EVENTS = ("lease lost; another daemon owns this store now",
                     "lease lost before the pull could end; another daemon owns this store now")


def _lost_pulls(daemon: Daemon, since: float) -> set[str]:
    """The pulls for which ``daemon`` logged that it lost its lease (its writes refused)."""
    return {str(record.get("pull_id")) for name in LEASE_LOST_EVENTS
            for _, record in daemon.events(name, since=since)}


def _running_of(sql: Sql, daemon: Daemon) -> list[tuple[int, int, int]]:
    return sql.rows("SELECT id, store_id, fencing_token FROM pulls WHERE state = 'running' AND lease_owner LIKE %s",
                    _owner_like(daemon))


def _taken_over(sql: Sql, daemon: Daemon, pull_ids: list[int]) -> bool:
    """Every one of ``pull_ids`` is held by another daemon now, or finished."""
    rows = sql.rows("SELECT state, lease_owner FROM pulls WHERE id = ANY(%s)", pull_ids)
    return all(state == "succeeded" or (state == "running" and owner and f"-{daemon.pid}-" not in owner)
               for state, owner in rows)


def _measure_takeover(sql: Sql, daemon: Daemon, pull_ids: list[int], since: float) -> float:
    wait_for(lambda: _taken_over(sql, daemon, pull_ids), LEASE_S * 4 + 10, "the takeover", step_s=0.05)
    return round(time.time() - since, 2)


def _kill_one(sql: Sql, daemon: Daemon) -> dict[str, Any]:
    """SIGKILL a daemon while it runs pulls; how long until others hold them."""
    wait_for(lambda: _running_of(sql, daemon), 30, f"{daemon.name} running pulls", step_s=0.02)
    daemon.signal(signal.SIGKILL)
    t_kill = time.time()
    daemon.proc.wait(10)
    time.sleep(SETTLE_S)  # a commit it sent just before may still be landing
    orphans = [pid for pid, _, _ in _running_of(sql, daemon)]
    takeover = _measure_takeover(sql, daemon, orphans, t_kill) if orphans else 0.0
    return {"orphans": len(orphans), "takeover_s": takeover}


def _pause_one(sql: Sql, daemon: Daemon) -> dict[str, Any]:
    """SIGSTOP a daemon past its lease while it runs pulls, then SIGCONT it."""
    wait_for(lambda: _running_of(sql, daemon), 30, f"{daemon.name} running pulls", step_s=0.02)
    daemon.signal(signal.SIGSTOP)
    t_stop = time.time()
    time.sleep(SETTLE_S)  # a commit it sent just before may still be landing
    t_frozen = time.time()
    held = _running_of(sql, daemon)  # frozen now: exactly what it held
    owner = sql.one("SELECT lease_owner FROM pulls WHERE id = %s", held[0][0]) if held else ""
    pull_ids = [pid for pid, _, _ in held]
    takeover = _measure_takeover(sql, daemon, pull_ids, t_stop) if held else 0.0
    time.sleep(max(0.0, t_stop + 2 * LEASE_S - time.time()))  # well past its lease
    daemon.signal(signal.SIGCONT)
    t_cont = time.time()
    wait_for(lambda: all(state != "running" or f"-{daemon.pid}-" not in (o or "") for state, o in sql.rows(
        "SELECT state, lease_owner FROM pulls WHERE id = ANY(%s)", pull_ids)), 30, "the paused daemon's pulls")
    return {"orphans": len(held), "takeover_s": takeover, "pull_ids": pull_ids, "owner": owner,
            "held": [(store, tok) for _, store, tok in held], "t_stop": t_stop, "t_frozen": t_frozen, "t_cont": t_cont,
            "paused_s": round(t_cont - t_stop, 1)}


def _check_audit(sql: Sql) -> dict[str, int]:
    """Every committed lease change: a claim takes only a free or expired lease
    with the next token; a renewal or release keeps its holder and token."""
    rows = sql.rows("SELECT store_id, old_owner, old_token, old_expires, new_owner, new_token, new_expires, "
                    "writer_now FROM lease_audit ORDER BY id")
    claims = renewals = 0
    for store_id, old_owner, old_token, old_expires, new_owner, new_token, _new_exp, writer_now in rows:
        if new_token != old_token:
            assert new_token == old_token + 1, (store_id, old_token, new_token)
            assert old_owner == "" or old_expires <= writer_now, ("claimed a live lease", store_id)
            claims += 1
        else:
            assert new_owner in (old_owner, ""), ("renewed someone else's lease", store_id)
            if new_owner:
                assert old_expires > writer_now, ("renewed an expired lease", store_id)
            renewals += 1
    return {"lease_claims": claims, "lease_renewals_and_releases": renewals}


def _overlapping_pulls(sql: Sql) -> int:
    """Pairs of pulls of one store whose [started_at, finished_at] overlap."""
    return int(sql.one(
        "SELECT count(*) FROM pulls a JOIN pulls b ON a.store_id = b.store_id AND a.id < b.id "
        "WHERE a.started_at IS NOT NULL AND b.started_at IS NOT NULL "
        "AND a.started_at < COALESCE(b.finished_at, 'infinity') "
        "AND b.started_at < COALESCE(a.finished_at, 'infinity')"))
