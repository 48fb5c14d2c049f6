"""Helpers of the multi-daemon and SIGTERM end-to-end tests: real
``makersyncd`` processes, the Example Market simulator over loopback, a
config file, and a fresh PostgreSQL schema.

PostgreSQL comes from ``MAKERSYNC_TEST_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Without a server the tests
that need it are skipped, saying so, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from makersync.plugins.example import ExampleSimulator
from makersync.plugins.simulate import Faults, SimServer
from tests.pg import fresh_schema

START_TIMEOUT_S = 30.0
LISTENING = "makersyncd listening on "


# --- PostgreSQL ------------------------------------------------------------------


def pg_schema() -> Iterator[str]:
    """A URL whose connections use a fresh schema, dropped afterwards (a fixture body)."""
    yield from fresh_schema("e2e")


class Sql:
    """A plain psycopg2 connection on the test's schema (autocommit), for
    arranging the schedule and reading the outcome."""

    def __init__(self, url: str) -> None:
        import psycopg2
        from psycopg2.extensions import parse_dsn

        base, _, query = url.partition("?")
        options = dict(part.split("=", 1) for part in query.split("&") if part)
        from urllib.parse import unquote

        dsn = parse_dsn(base)
        if "options" in options:
            dsn["options"] = unquote(options["options"])
        self.conn = psycopg2.connect(**dsn)
        self.conn.autocommit = True

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []

    def one(self, sql: str, *params: Any) -> Any:
        found = self.rows(sql, *params)
        return found[0][0] if found else None

    def run(self, sql: str, *params: Any) -> int:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return int(cur.rowcount)

    def close(self) -> None:
        self.conn.close()


# --- the simulator and the config --------------------------------------------------


class Sim:
    """The Example Market simulator served over loopback."""

    def __init__(self, *, orders: int = 30, days: int = 20, speed: float = 200.0,
                 latency_s: float = 0.0, catalogue_size: int = 14) -> None:
        self.sim = ExampleSimulator.create(seed=3, orders=orders, days=days, speed=speed,
                                           faults=Faults(latency_s=latency_s), catalogue_size=catalogue_size)
        self.server = SimServer(self.sim).start()
        self.section = self.sim.config_section(self.server.base_url)
        self.credentials = self.sim.credentials()

    def stop(self) -> None:
        self.server.stop()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def write_config(path: Path, tables: Mapping[str, Mapping[str, Any]]) -> Path:
    """A TOML file of ``{"section.sub": {key: value}}``."""
    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in table.items())
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def daemon_config(path: Path, sim: Sim, *, workers: int = 4, poll_s: float = 0.2, lease_s: float = 3.0,
                  grace_s: float = 8.0, log_level: str = "info") -> Path:
    return write_config(path, {
        "server": {"grace_period_s": grace_s},
        "log": {"format": "json", "level": log_level},
        "scheduler": {"workers": workers, "poll_s": poll_s, "lease_s": lease_s},
        "plugins": {"modules": ["makersync.plugins.example"]},
        "channels.example": dict(sim.section),
    })


# --- the daemon process ----------------------------------------------------------


class Daemon:
    """A running ``makersyncd``; its stdout (JSON log lines) is collected with
    the time each line arrived."""

    def __init__(self, name: str, config: Path, data_dir: Path, env: Mapping[str, str],
                 database_url: str | None = None) -> None:
        self.name = name
        args = [sys.executable, "-m", "makersync.daemon.main", "--listen", "127.0.0.1:0",
                "--config", str(config), "--data-dir", str(data_dir)]
        if database_url:
            args += ["--database-url", database_url]
        full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        full_env.pop("MAKERSYNC_CONFIG", None)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=full_env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[tuple[float, str]] = []
        self.stderr: list[str] = []
        self.address = ""
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.log.append((time.time(), line))
            self.lines.put(line)

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip("\n"))

    def wait_listening(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    time.sleep(0.2)
                    raise AssertionError(f"{self.name} exited {self.proc.returncode}: {self.stderr}") from None
                continue
            if line.startswith(LISTENING):
                self.address = line[len(LISTENING):].strip()
                return self.address
        raise AssertionError(f"{self.name}: no listening line within {START_TIMEOUT_S}s")

    def events(self, name: str, since: float = 0.0) -> list[tuple[float, dict[str, Any]]]:
        """Log lines whose ``event`` is ``name`` (JSON lines only), received after ``since``."""
        out = []
        for when, line in list(self.log):
            if when < since or not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == name:
                out.append((when, record))
        return out

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def terminate(self, timeout_s: float) -> tuple[int, float]:
        """SIGTERM; the exit code and the seconds it took."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout_s)
        return code, time.monotonic() - started

    def dump(self) -> None:
        """Write the log and stderr to ``$MAKERSYNC_E2E_LOGS/<name>.log`` when that is set."""
        folder = os.environ.get("MAKERSYNC_E2E_LOGS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            lines = [f"{when:.3f} {line}" for when, line in self.log] + self.stderr
            (Path(folder) / f"{self.name}.log").write_text("\n".join(lines) + "\n")

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.proc.kill()
            self.proc.wait(10)


def wait_for(predicate: Any, timeout_s: float, what: str, step_s: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(step_s)
