"""Config: defaults without a file, precedence flags > env > file, clear
refusals naming the key, and reloads that keep the old config on a bad edit."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from makersync.daemon.config import ConfigError, ConfigWatcher, load_config
from makersync.daemon.config_sections import hash_key


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "makersync.toml"
    path.write_text(text)
    return path


def test_defaults_need_no_file(tmp_path):
    config = load_config(None, env={"XDG_DATA_HOME": str(tmp_path)})
    assert config.listen == "127.0.0.1:50551"
    assert config.data_dir == tmp_path / "makersync"
    assert config.resolved_database_url == f"sqlite:///{tmp_path / 'makersync' / 'makersync.db'}"
    assert config.scheduler.workers == 4 and config.server.grace_period_s == 10
    assert config.plans["trial"].cadence == "daily" and config.plans["trial"].lookback_days == 30
    assert config.plans["growth"].max_stores is None and config.plans["business"].default_location_allowed


def test_flags_beat_env_beat_file(tmp_path):
    path = write(tmp_path, '[server]\nlisten = "127.0.0.1:1111"\n[database]\nurl = "sqlite:///file.db"\n')
    env = {"MAKERSYNC_LISTEN": "127.0.0.1:2222", "MAKERSYNC_DATABASE_URL": "sqlite:///env.db"}
    assert load_config(path, env={}).listen == "127.0.0.1:1111"
    assert load_config(path, env=env).listen == "127.0.0.1:2222"
    assert load_config(path, env=env).database_url == "sqlite:///env.db"
    flagged = load_config(path, env=env, flags={"listen": "127.0.0.1:3333", "database_url": None})
    assert flagged.listen == "127.0.0.1:3333" and flagged.database_url == "sqlite:///env.db"


def test_config_file_comes_from_env_when_no_flag(tmp_path):
    path = write(tmp_path, "[log]\nformat = 'json'\nlevel = 'debug'\n")
    config = load_config(None, env={"MAKERSYNC_CONFIG": str(path), "MAKERSYNC_LOG_LEVEL": "warning"})
    assert (config.log.format, config.log.level) == ("json", "warning")
    assert config.config_file == path.resolve()


def test_plain_keys_are_kept_only_hashed(tmp_path):
    path = write(tmp_path, '[server]\nkeys = [{key = "k-0123456789abcdefgh", account_id = "4"}]\n')
    config = load_config(path, env={})
    assert config.server.keys[0].sha256 == hash_key("k-0123456789abcdefgh")
    assert config.server.keys[0].account_id == "4"
    assert "k-0123456789abcdefgh" not in repr(config)


def test_plan_table_overrides_and_additions(tmp_path):
    path = write(tmp_path, """
[plans.trial]
max_stores = 3
[plans.atelier]
automatic = "hourly"
lookback_days = 90
max_stores = 0
default_location_allowed = true
""")
    plans = load_config(path, env={}).plans
    assert plans["trial"].max_stores == 3 and plans["trial"].lookback_days == 30
    assert plans["atelier"].cadence == "hourly" and plans["atelier"].max_stores is None


def test_channel_sections_are_passed_through(tmp_path):
    path = write(tmp_path, '[channels.etsy]\nbase_url = "http://127.0.0.1:9"\ntoken_url = "http://127.0.0.1:9/t"\nx = 1\n')
    assert dict(load_config(path, env={}).channels["etsy"]) == {
        "base_url": "http://127.0.0.1:9", "token_url": "http://127.0.0.1:9/t", "x": 1}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[server]\nlisten = "nope"', "server.listen"),
        ("[server]\nkeys = [{key = 'short'}]", "server.keys[0].key"),
        ("[server]\ngrace_period_s = -1", "server.grace_period_s"),
        ("[server]\nlisen = '127.0.0.1:1'", "server.lisen"),
        ('[server]\ntls_cert = "/no/such/cert.pem"', "server.tls_cert"),
        ("[log]\nformat = 'xml'", "log.format"),
        ("[plans.trial]\nautomatic = 'weekly'", "plans.trial.automatic"),
        ("[plans.new]\nautomatic = 'daily'", "plans.new.lookback_days"),
        ("[plans.trial]\nmax_stores = -1", "plans.trial.max_stores"),
        ("[scheduler]\nworkers = 0", "scheduler.workers"),
        ("[scheduler]\ndaily_hour_default = 24", "scheduler.daily_hour_default"),
        ("[plugins]\npaths = 'one'", "plugins.paths"),
        ("[channels.etsy]\nbase_url = 'ftp://x'", "channels.etsy.base_url"),
        ("[database]\nurl = 'mysql://x'", "database.url"),
        ("[surprise]\nx = 1", "surprise"),
    ],
)
def test_bad_values_are_refused_naming_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env={})
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ")


def test_missing_file_and_bad_toml_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[server\n"), env={})


def test_reload_refuses_a_bad_edit_and_keeps_the_old_config(tmp_path):
    path = write(tmp_path, "[plans.trial]\nmax_stores = 3\n")
    watcher = ConfigWatcher(load_config(path, env={}), lambda: load_config(path, env={}))
    got = []
    watcher.subscribe(got.append)
    path.write_text("[plans.trial]\nmax_stores = 'many'\n")
    assert watcher.reload() is False
    assert watcher.current.plans["trial"].max_stores == 3 and got == []
    path.write_text("[plans.trial]\nmax_stores = 4\n")
    assert watcher.reload() is True
    assert [c.plans["trial"].max_stores for c in got] == [4]


def test_watcher_reloads_when_the_file_changes(tmp_path):
    path = write(tmp_path, "[plans.trial]\nmax_stores = 3\n")
    watcher = ConfigWatcher(load_config(path, env={}), lambda: load_config(path, env={}))
    changed = threading.Event()
    watcher.subscribe(lambda _c: changed.set())
    watcher.start()
    try:
        time.sleep(0.3)  # let the watcher settle before the edit
        path.write_text("[plans.trial]\nmax_stores = 7\n")
        assert changed.wait(10), "the edit was not picked up"
        assert watcher.current.plans["trial"].max_stores == 7
    finally:
        watcher.stop()
