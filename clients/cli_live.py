"""Live views of the ``makersync`` command: a pull's progress bar (fed by
WatchPull) and ``status --watch`` (refreshed every second until Ctrl-C)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import timedelta

from rich.console import Group, RenderableType
from rich.live import Live
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from makersync.clients.cli_output import Output, enum_word, pull_state, to_dict, when
from makersync.clients.client import MakersyncClient
from makersync.v1 import resources_pb2 as res
from makersync.v1 import status_pb2

REFRESH_S = 1.0


def _describe(job: res.PullJob) -> str:
    stage = f" {job.progress.stage}" if job.progress.stage else ""
    waiting = f" ({job.waiting_reason})" if job.waiting_reason else ""
    return f"pull {job.id} {pull_state(job)}{stage}{waiting}"


def follow_pull(client: MakersyncClient, pull_id: str, out: Output) -> res.PullJob:
    """Follow a pull to its end; with a live progress bar on stderr for people.
    Returns the final snapshot."""
    final: res.PullJob | None = None
    if out.as_json:
        for job in client.watch_pull(pull_id):
            final = job
        assert final is not None
        return final
    columns = (
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"), TextColumn("{task.fields[records]} records"),
        TextColumn("{task.fields[requests]} requests"), TimeElapsedColumn(),
    )
    with Progress(*columns, console=out.err) as progress:
        task = progress.add_task(f"pull {pull_id}", total=100, records=0, requests=0)
        for job in client.watch_pull(pull_id):
            final = job
            done = 100.0 if pull_state(job) == "succeeded" else job.progress.percent
            progress.update(task, completed=done, description=_describe(job),
                            records=job.progress.records_done, requests=job.requests_made)
    assert final is not None
    return final


def _uptime(seconds: int) -> str:
    return str(timedelta(seconds=seconds))


def status_view(st: status_pb2.GetStatusResponse) -> RenderableType:
    """The daemon's status as rich renderables: header, stores, running pulls."""
    plugins = ", ".join(f"{p.name} {p.version}" for p in st.plugins) or "none"
    header = Text(
        f"makersyncd {st.version}  up {_uptime(st.uptime_seconds)}  database {st.database}  "
        f"daemon {st.daemon_id}\nplugins: {plugins}"
    )
    stores = Table(title="stores", title_justify="left")
    for col in ("store", "account", "channel", "name", "state", "last pull", "finished",
                "next automatic", "last error"):
        stores.add_column(col, overflow="fold")
    for s in st.stores:
        last = f"{s.last_pull.id} {pull_state(s.last_pull)}" if s.HasField("last_pull") else ""
        finished = when(s.last_pull, "finished_at") if s.HasField("last_pull") else ""
        stores.add_row(s.store_id, s.account_id, s.channel, s.name,
                       enum_word(res.StoreState, s.state, "STORE_STATE"), last, finished,
                       when(s, "next_automatic_pull_at"), Text(s.last_error, style="red"))
    running = Table(title="running pulls", title_justify="left")
    for col in ("pull", "store", "kind", "stage", "done", "records", "requests", "eta"):
        running.add_column(col)
    for p in st.running_pulls:
        eta = _uptime(p.progress.eta_seconds) if p.progress.eta_seconds else ""
        running.add_row(p.id, p.store_id, enum_word(res.PullKind, p.kind, "PULL_KIND"),
                        p.progress.stage, f"{p.progress.percent:.0f}%", str(p.progress.records_done),
                        str(p.requests_made), eta)
    return Group(header, stores, running)


def show_status(client: MakersyncClient, account_id: str, out: Output, *, watch: bool,
                count: int = 0, sleep: Callable[[float], None] = time.sleep) -> None:
    """Print the status once, or refresh it every second until Ctrl-C (or ``count`` times).
    With --json and --watch, one JSON object per line."""
    if not watch:
        out.emit(client.get_status(account_id), lambda st: out.console.print(status_view(st)))
        return
    shown = 0
    try:
        if out.as_json:
            while not count or shown < count:
                if shown:
                    sleep(REFRESH_S)
                sys.stdout.write(json.dumps(to_dict(client.get_status(account_id))) + "\n")
                sys.stdout.flush()
                shown += 1
            return
        with Live(console=out.console, refresh_per_second=4, transient=False) as live:
            while not count or shown < count:
                if shown:
                    sleep(REFRESH_S)
                live.update(status_view(client.get_status(account_id)))
                shown += 1
    except KeyboardInterrupt:
        return
