"""The Prometheus endpoint (issue 9): off by default; on, it reports pulls by
outcome, requests and 429s by channel, records by kind and schedule lag."""

from __future__ import annotations

from pathlib import Path

import httpx

from makersync.daemon.config import Config, load_config
from makersync.daemon.metrics import MetricsServer
from tests.harness import Books


def test_metrics_off_by_default(tmp_path: Path) -> None:
    assert load_config(None, env={}).metrics.listen == ""


def test_metrics_report_the_pulls_and_records_of_the_books(tmp_path: Path) -> None:
    books = Books(tmp_path)
    try:
        books.add_sim("etsy", seed=2, orders=40, days=10)
        app = books.start()
        account = books.account()
        books.connect(account, "etsy")
        assert books.run_pulls() == ["succeeded"]
        server = MetricsServer("127.0.0.1:0", app.db, books.clock, "9.9.9").start()
        try:
            text = httpx.get(f"http://127.0.0.1:{server.port}/metrics").text
            missing = httpx.get(f"http://127.0.0.1:{server.port}/other")
        finally:
            server.stop()
    finally:
        books.close()
    orders = len(books.sims["etsy"].truth()[0])
    assert 'makersync_build_info{version="9.9.9"} 1' in text
    assert 'makersync_pulls{channel="etsy",kind="initial",state="succeeded"} 1' in text
    assert f'makersync_records{{kind="orders"}} {orders}' in text
    assert 'makersync_channel_requests_total{channel="etsy"}' in text
    assert 'makersync_channel_throttled_total{channel="etsy"} 0' in text
    assert 'makersync_pull_duration_seconds_count{channel="etsy"} 1' in text
    assert 'makersync_stores{channel="etsy",state="active"} 1' in text
    assert "# TYPE makersync_schedule_lag_seconds gauge" in text
    assert missing.status_code == 404


def test_metrics_listen_refused_when_malformed(tmp_path: Path) -> None:
    config_file = tmp_path / "m.toml"
    config_file.write_text('[metrics]\nlisten = "nowhere"\n')
    try:
        load_config(config_file, env={})
    except ValueError as exc:
        assert "metrics.listen" in str(exc)
    else:
        raise AssertionError("a listen address without a port must be refused")
    assert Config().metrics.listen == ""
