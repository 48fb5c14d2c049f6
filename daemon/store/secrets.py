"""Channel credentials encrypted at rest (Fernet).

Keys come from, in order: ``MAKERSYNC_SECRET_KEY`` (one or more urlsafe-base64
32-byte keys, comma separated, newest first), a key file named in the config
(one key a line, newest first), or for the embedded default
``<data_dir>/secret.key``, created with mode 0600 on first run. The first key
encrypts; every key decrypts (MultiFernet), so a key is rotated by putting the
new one first and running ``rotate``. Keys and plaintext are never logged and
never appear in error messages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from makersync.daemon.store.db import Database
from makersync.daemon.store.models import StoreRow

SECRET_KEY_ENV = "MAKERSYNC_SECRET_KEY"
DEFAULT_KEY_FILENAME = "secret.key"


class SecretKeyError(Exception):
    """Keys are missing or malformed, or stored credentials cannot be decrypted."""


class SecretBox:
    """Encrypts and decrypts credentials with a list of keys (first encrypts)."""

    def __init__(self, keys: Sequence[bytes | str]) -> None:
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
        self._multi = MultiFernet(fernets)
        self.key_count = len(fernets)

    def __repr__(self) -> str:  # never show keys
        return f"SecretBox(<{self.key_count} key(s)>)"

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


def rotate(db: Database, box: SecretBox) -> int:
    """Re-encrypt every store's credentials under ``box``'s first key, in one
    transaction. Returns the number of stores rewritten."""
    count = 0
    with db.write_tx():
        for row in StoreRow.select(StoreRow.id, StoreRow.credentials_encrypted):
            new = box.rotate_token(row.credentials_encrypted)
            StoreRow.update(credentials_encrypted=new).where(StoreRow.id == row.id).execute()
            count += 1
    return count


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
