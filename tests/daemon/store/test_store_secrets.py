"""Credentials encrypted at rest, key loading, rotation (O2)."""

from __future__ import annotations

import stat

import pytest

from makersync.daemon.store import secrets
from makersync.daemon.store.secrets import SecretBox, SecretKeyError, generate_key

CANARY = "canary-7f3c9a1e-token-do-not-log"


def test_credentials_not_in_sqlite_file_when_stored(sqlite_db, books, tmp_path):
    """O2: a canary token in the credentials appears nowhere in the database files."""
    account = books.account()
    store = books.store(account, credentials={"access_token": CANARY, "shop": "x"})
    sqlite_db.pw.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in tmp_path.glob("makersync.db*"):
        assert CANARY.encode() not in path.read_bytes(), path.name
    assert secrets.load_credentials(sqlite_db, books.box, int(store.id))["access_token"] == CANARY


def test_store_view_carries_no_credentials(db, books):
    """O2: what the domain returns for a store holds no secret."""
    account = books.account()
    store = books.store(account, credentials={"access_token": CANARY})
    assert CANARY not in repr(store)


def test_rotate_reencrypts_under_new_key(db, books):
    """Rotation: after adding a new key first and rotating, the old key can go."""
    old, new = generate_key(), generate_key()
    books.box = SecretBox([old])
    account = books.account()
    store = books.store(account, credentials={"access_token": CANARY})
    with pytest.raises(SecretKeyError):
        secrets.check_can_decrypt(db, SecretBox([new]))
    assert secrets.rotate(db, SecretBox([new, old])) == 1
    only_new = SecretBox([new])
    secrets.check_can_decrypt(db, only_new)
    assert secrets.load_credentials(db, only_new, int(store.id)) == {"access_token": CANARY}


def test_daemon_refused_when_key_cannot_decrypt(db, books):
    """A daemon whose keys cannot read the stored credentials refuses to start, clearly."""
    account = books.account()
    books.store(account, credentials={"access_token": CANARY})
    with pytest.raises(SecretKeyError) as err:
        secrets.check_can_decrypt(db, SecretBox([generate_key()]))
    assert "cannot decrypt the credentials of 1 store" in str(err.value)
    assert CANARY not in str(err.value)


def test_key_file_created_0600_on_first_run(tmp_path):
    """The embedded default creates <data_dir>/secret.key readable by its owner only."""
    box = secrets.load_secret_box(tmp_path, environ={})
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = secrets.load_secret_box(tmp_path, environ={})
    assert again.decrypt_json(box.encrypt_json({"a": "b"})) == {"a": "b"}


def test_env_keys_take_precedence_and_all_decrypt(tmp_path):
    """MAKERSYNC_SECRET_KEY holds one or more keys; the first encrypts, all decrypt."""
    old, new = generate_key(), generate_key()
    token = SecretBox([old]).encrypt_json({"t": CANARY})
    box = secrets.load_secret_box(tmp_path, environ={"MAKERSYNC_SECRET_KEY": f"{new},{old}"})
    assert box.decrypt_json(token) == {"t": CANARY}
    assert SecretBox([new]).decrypt_json(box.encrypt_json({"t": "x"})) == {"t": "x"}
    assert not (tmp_path / "secret.key").exists()


def test_bad_key_refused_without_showing_it(tmp_path):
    """A malformed key is refused and the message does not echo it."""
    with pytest.raises(SecretKeyError) as err:
        secrets.load_secret_box(tmp_path, environ={"MAKERSYNC_SECRET_KEY": "not-a-key-" + CANARY})
    assert CANARY not in str(err.value)


def test_key_file_from_config_missing_refused(tmp_path):
    """A configured key file that does not exist is refused, naming the path."""
    with pytest.raises(SecretKeyError, match="does not exist"):
        secrets.load_secret_box(tmp_path, key_file=tmp_path / "nope.key", environ={})
