"""Channel credentials encrypted at rest (Fernet).

Keys come from, in order: ``MAKERSYNC_SECRET_KEY`` (one or more urlsafe-base64
32-byte keys, comma separated, newest first), a key file named in the config
(one key a line, newest first), or for the embedded default
``<data_dir>/secret.key``, created with mode 0600 on first run. The first key
encrypts; every key decrypts (MultiFernet), so a key is rotated by putting the
new one first and running ``rotate``; :func:`rotate_secret_key` does the whole
rotation for a running daemon (``AdminService.RotateSecretKey``). Keys and
plaintext are never logged and never appear in error messages.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from makersync.daemon.store.db import Database
from makersync.daemon.store.models import StoreRow

SECRET_KEY_ENV = "MAKERSYNC_SECRET_KEY"
DEFAULT_KEY_FILENAME = "secret.key"


class SecretKeyError(Exception):
    """Keys are missing or malformed, or stored credentials cannot be decrypted."""


def _fernets(keys: Sequence[bytes | str]) -> list[Fernet]:
    if not keys:
        raise SecretKeyError("no secret key given")
    fernets = []
    for index, key in enumerate(keys):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise SecretKeyError(
                f"secret key #{index + 1} is not a urlsafe-base64 32-byte Fernet key"
            ) from None
    return fernets


def fingerprint(key: bytes | str) -> str:
    """First 8 hex digits of the key's SHA-256: tells keys apart, shows none."""
    raw = key.encode("ascii") if isinstance(key, str) else key
    return hashlib.sha256(raw.strip()).hexdigest()[:8]


class SecretBox:
    """Encrypts and decrypts credentials with a list of keys (first encrypts).

    :meth:`replace_keys` swaps the keys of a box every part of the daemon
    holds (the engine, the App), so a rotation takes effect everywhere at once."""

    def __init__(self, keys: Sequence[bytes | str]) -> None:
        fernets = _fernets(keys)
        self._first, self._multi = fernets[0], MultiFernet(fernets)
        self.key_count = len(keys)
        self.fingerprint = fingerprint(keys[0])

    def __repr__(self) -> str:  # never show keys
        return f"SecretBox(<{self.key_count} key(s)>)"

    def replace_keys(self, keys: Sequence[bytes | str]) -> None:
        """Encrypt with ``keys[0]`` and decrypt with every key from now on."""
        fernets = _fernets(keys)
        multi = MultiFernet(fernets)
        self._first, self._multi = fernets[0], multi
        self.key_count, self.fingerprint = len(keys), fingerprint(keys[0])

    def is_current(self, token: str) -> bool:
        """Whether the first key (the one that encrypts) alone reads ``token``."""
        try:
            self._first.decrypt(token.encode("ascii"))
        except (InvalidToken, ValueError):
            return False
        return True

    def encrypt_json(self, value: Mapping[str, str]) -> str:
        """Encrypt a credentials mapping; returns a Fernet token (text)."""
        plain = json.dumps(dict(value), sort_keys=True).encode()
        return self._multi.encrypt(plain).decode("ascii")

    def decrypt_json(self, token: str) -> dict[str, str]:
        """Decrypt a token made by ``encrypt_json``; SecretKeyError if no key fits."""
        try:
            plain = self._multi.decrypt(token.encode("ascii"))
        except (InvalidToken, ValueError):
            raise SecretKeyError("stored credentials cannot be decrypted with the configured keys") from None
        return json.loads(plain)

    def rotate_token(self, token: str) -> str:
        """Re-encrypt a token under the first key."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            raise SecretKeyError("stored credentials cannot be decrypted with the configured keys") from None


def generate_key() -> str:
    """A new random key (urlsafe base64 text)."""
    return Fernet.generate_key().decode("ascii")


def _split_keys(text: str) -> list[str]:
    return [k.strip() for k in text.replace(",", "\n").splitlines() if k.strip() and not k.strip().startswith("#")]


def load_secret_box(
    data_dir: Path,
    key_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    create: bool = True,
) -> SecretBox:
    """The daemon's SecretBox, keys found as the module docstring says.

    ``create``: make ``<data_dir>/secret.key`` (mode 0600) if nothing else
    names a key. Raises SecretKeyError with a message that names where the
    keys were looked for, never the keys."""
    env = os.environ if environ is None else environ
    if env.get(SECRET_KEY_ENV, "").strip():
        return SecretBox(_split_keys(env[SECRET_KEY_ENV]))
    if key_file is not None:
        path = Path(key_file)
        if not path.is_file():
            raise SecretKeyError(f"secret key file {path} does not exist")
        return SecretBox(_split_keys(path.read_text()))
    path = Path(data_dir) / DEFAULT_KEY_FILENAME
    if not path.exists():
        if not create:
            raise SecretKeyError(f"no secret key: set {SECRET_KEY_ENV} or create {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_key() + "\n")
    return SecretBox(_split_keys(path.read_text()))


def check_can_decrypt(db: Database, box: SecretBox) -> None:
    """Refuse to start when any stored credentials do not decrypt with ``box``.

    Raises SecretKeyError naming how many stores (by id) cannot be read and
    what to do."""
    bad: list[int] = []
    with db.read_tx():
        for row in StoreRow.select(StoreRow.id, StoreRow.credentials_encrypted):
            try:
                box.decrypt_json(row.credentials_encrypted)
            except SecretKeyError:
                bad.append(row.id)
    if bad:
        shown = ", ".join(str(i) for i in bad[:10])
        raise SecretKeyError(
            f"the configured secret keys cannot decrypt the credentials of {len(bad)} "
            f"store(s) (ids {shown}); configure the key they were encrypted with "
            f"({SECRET_KEY_ENV} or the key file), listing older keys after the new one"
        )


ROTATE_ATTEMPTS = 5


def rotate(db: Database, box: SecretBox) -> int:
    """Re-encrypt every store's credentials under ``box``'s first key. Returns
    the number of stores rewritten.

    Each row is replaced only if it still holds what was read (compare and
    swap), and read again when it does not: a pull that saves refreshed tokens
    meanwhile (F6) keeps them; they are re-encrypted, never overwritten with
    the older credentials. All or nothing: a store that cannot be decrypted
    raises SecretKeyError and no row changes."""
    count = 0
    with db.write_tx():
        for (store_id,) in StoreRow.select(StoreRow.id).tuples():
            for _attempt in range(ROTATE_ATTEMPTS):
                row = StoreRow.select(StoreRow.credentials_encrypted).where(StoreRow.id == store_id).first()
                if row is None:  # disconnected meanwhile
                    break
                old = row.credentials_encrypted
                changed = StoreRow.update(credentials_encrypted=box.rotate_token(old)).where(
                    (StoreRow.id == store_id) & (StoreRow.credentials_encrypted == old)).execute()
                if changed:
                    count += 1
                    break
            else:
                raise SecretKeyError(f"store {store_id}: its credentials kept changing during the rotation; "
                                     "run it again")
    return count


def encrypted_with_first_key(db: Database, box: SecretBox) -> list[int]:
    """Ids of stores whose credentials the first key of ``box`` alone cannot read."""
    return [store_id for store_id, token in StoreRow.select(StoreRow.id, StoreRow.credentials_encrypted).tuples()
            if not box.is_current(token)]


# --- rotating the key of a running daemon (AdminService.RotateSecretKey) ------------------------


@dataclass(frozen=True)
class KeyLocation:
    """Where the daemon's keys come from: ``environment`` (MAKERSYNC_SECRET_KEY)
    or ``file`` (``path``)."""

    source: str
    path: Path | None = None


@dataclass(frozen=True)
class Rotation:
    """What a key rotation did (never the keys themselves)."""

    stores_reencrypted: int
    source: str
    new_key_generated: bool
    key_fingerprint: str
    keys_in_use: int
    key_file: Path | None


_rotation_lock = threading.Lock()


def key_location(data_dir: Path, key_file: Path | None = None,
                 environ: Mapping[str, str] | None = None) -> KeyLocation:
    """Where :func:`load_secret_box` finds the keys, by the same rules."""
    env = os.environ if environ is None else environ
    if env.get(SECRET_KEY_ENV, "").strip():
        return KeyLocation("environment")
    return KeyLocation("file", Path(key_file) if key_file is not None else Path(data_dir) / DEFAULT_KEY_FILENAME)


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Replace the key file atomically with ``keys`` (newest first), mode 0600:
    a crash leaves the old file or the new one, never half of one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("".join(f"{k}\n" for k in keys))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def rotate_secret_key(db: Database, box: SecretBox, location: KeyLocation, *,
                      keep_previous: bool = False) -> Rotation:
    """Rotate the key of a running daemon; none of the stores' credentials is lost.

    Key file: a new key is written first in the file (the old ones after it)
    before anything else changes, ``box`` starts encrypting with it, every
    store is re-encrypted (:func:`rotate`, which never overwrites credentials a
    pull saves meanwhile) until the new key alone reads them all, and then,
    unless ``keep_previous``, the file and ``box`` keep only the new key.
    Environment: the keys cannot change here; every store is re-encrypted
    under the first configured key. Raises SecretKeyError (nothing changed
    when the stored credentials cannot be read) and OSError (key file)."""
    with _rotation_lock:
        check_can_decrypt(db, box)
        if location.source == "environment" or location.path is None:
            count = rotate(db, box)
            return Rotation(count, "environment", False, box.fingerprint, box.key_count, None)
        path = location.path
        old_keys = _split_keys(path.read_text()) if path.exists() else []
        new_key = generate_key()
        write_key_file(path, [new_key, *old_keys])
        box.replace_keys([new_key, *old_keys])
        count = rotate(db, box)
        for _pass in range(ROTATE_ATTEMPTS):  # credentials encrypted just before the switch, saved just after
            with db.read_tx():
                stragglers = encrypted_with_first_key(db, box)
            if not stragglers:
                break
            rotate(db, box)
        else:
            keep_previous = True  # never drop a key something still needs
        if not keep_previous:
            write_key_file(path, [new_key])
            box.replace_keys([new_key])
        return Rotation(count, "file", True, box.fingerprint, box.key_count, path)


def load_credentials(db: Database, box: SecretBox, store_id: int) -> dict[str, str]:
    """The decrypted credentials of a store (for the engine's channel context)."""
    row = StoreRow.get_by_id(store_id)
    return box.decrypt_json(row.credentials_encrypted)


def save_credentials(db: Database, box: SecretBox, store_id: int, credentials: Mapping[str, str]) -> None:
    """Store rotated credentials (a refreshed token) encrypted, at once."""
    with db.write_tx():
        StoreRow.update(credentials_encrypted=box.encrypt_json(credentials)).where(
            StoreRow.id == store_id
        ).execute()
