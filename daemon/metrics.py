"""A Prometheus text endpoint (``GET /metrics``), off by default.

Switched on with ``[metrics] listen = "127.0.0.1:9464"``. Figures come from
the database (see :mod:`makersync.daemon.store.metrics`): pulls by outcome,
records by kind, requests and 429s by channel, pull duration, and the lag of
the most overdue automatic pull behind its schedule.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from makersync.daemon.store.db import Database
from makersync.daemon.store.metrics import Figures, read_figures
from makersync.plugins.clock import Clock

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(figures: Figures, version: str) -> str:
    """The figures in Prometheus' text exposition format."""
    out: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    family("makersync_build_info", "gauge", "The daemon's version.", [(f'{{version="{_label(version)}"}}', 1)])
    family("makersync_pulls", "gauge", "Pulls by channel, kind and state.",
           [(f'{{channel="{_label(c)}",kind="{k}",state="{s}"}}', n) for (c, k, s), n in sorted(figures.pulls.items())])
    family("makersync_channel_requests_total", "counter", "Requests made to each channel.",
           [(f'{{channel="{_label(c)}"}}', n) for c, n in sorted(figures.requests.items())])
    family("makersync_channel_throttled_total", "counter", "Responses each channel throttled (429s).",
           [(f'{{channel="{_label(c)}"}}', n) for c, n in sorted(figures.throttled.items())])
    family("makersync_pull_duration_seconds", "summary", "Time finished pulls took.",
           [s for c, (secs, n) in sorted(figures.duration.items())
            for s in ((f'_sum{{channel="{_label(c)}"}}', secs), (f'_count{{channel="{_label(c)}"}}', n))])
    family("makersync_records", "gauge", "Records in the books by kind.",
           [(f'{{kind="{k}"}}', n) for k, n in sorted(figures.records.items())])
    family("makersync_stores", "gauge", "Connected stores by channel and state.",
           [(f'{{channel="{_label(c)}",state="{s}"}}', n) for (c, s), n in sorted(figures.stores.items())])
    family("makersync_schedule_lag_seconds", "gauge",
           "How far the most overdue automatic pull is behind its slot.", [("", figures.lag_s)])
    return "\n".join(out) + "\n"


class MetricsServer:
    """Serves ``/metrics`` from a background thread."""

    def __init__(self, listen: str, db: Database, clock: Clock, version: str) -> None:
        host, _, port = listen.rpartition(":")
        collect: Callable[[], str] = lambda: render(read_figures(db, clock.now()), version)  # noqa: E731

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404, "only /metrics is served here")
                    return
                try:
                    body = collect().encode()
                finally:
                    db.close()
                self.send_response(200)
                self.send_header("content-type", CONTENT_TYPE)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer((host.strip("[]") or "127.0.0.1", int(port)), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="metrics", daemon=True)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
