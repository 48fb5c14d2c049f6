"""AdminService: what only the daemon's operator may do (an unscoped key).

RotateSecretKey hands the daemon's database and secret box to
:func:`makersync.daemon.store.secrets.rotate_secret_key`, which holds the whole
procedure (it is about keys and stored credentials, nothing else); this
servicer checks the caller and says where the keys are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc

from makersync.daemon.api import access
from makersync.daemon.api.app import App
from makersync.daemon.domain.errors import FailedPrecondition
from makersync.daemon.logging import get_logger
from makersync.daemon.store import secrets
from makersync.v1 import admin_pb2 as pb
from makersync.v1 import admin_pb2_grpc

log = get_logger("makersync.api.admin")

SOURCES = {"file": pb.SECRET_KEY_SOURCE_FILE, "environment": pb.SECRET_KEY_SOURCE_ENVIRONMENT}


def key_location(app: Any) -> secrets.KeyLocation:
    """Where this daemon read its keys (the rules of ``build_app``)."""
    config = getattr(app, "config", None)
    data_dir = getattr(config, "data_dir", None)
    if data_dir is None:
        raise FailedPrecondition("", "this daemon does not say where its secret keys are; rotate them offline")
    key_file = getattr(getattr(config, "server", None), "secret_key_file", None)
    return secrets.key_location(Path(data_dir), Path(key_file) if key_file else None)


class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    """Operator-only methods."""

    def __init__(self, app: App) -> None:
        self.app = app

    def RotateSecretKey(self, request: pb.RotateSecretKeyRequest,
                        context: grpc.ServicerContext) -> pb.RotateSecretKeyResponse:
        access.require_unscoped("rotate the daemon's secret key")
        box = getattr(self.app, "box", None)
        if not isinstance(box, secrets.SecretBox):
            raise FailedPrecondition("", "this daemon has no secret box to rotate")
        location = key_location(self.app)
        try:
            done = secrets.rotate_secret_key(self.app.db, box, location,
                                             keep_previous=request.keep_previous_keys)
        except secrets.SecretKeyError as exc:
            raise FailedPrecondition("", f"the secret key was not rotated: {exc}") from None
        except OSError as exc:
            raise FailedPrecondition(
                "", f"the secret key was not rotated: cannot write the key file {location.path} "
                    f"({exc.strerror or type(exc).__name__})") from None
        log.warning("secret_key_rotated", stores=done.stores_reencrypted, source=done.source,
                    key_fingerprint=done.key_fingerprint, keys_in_use=done.keys_in_use,
                    key_file=str(done.key_file or ""))
        return pb.RotateSecretKeyResponse(
            stores_reencrypted=done.stores_reencrypted, key_source=SOURCES[done.source],
            new_key_generated=done.new_key_generated, key_fingerprint=done.key_fingerprint,
            keys_in_use=done.keys_in_use, key_file=str(done.key_file or ""))
