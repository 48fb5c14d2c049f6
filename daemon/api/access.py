"""What a caller's key may reach: a key scoped to one account acts only for it.

Servicers call :func:`check_account` with the account a request names, or
:func:`check_owner` with a lookup of the object a request names (only made
for scoped keys, so unscoped calls cost nothing). Other accounts get
PERMISSION_DENIED.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from makersync.daemon.api.interceptors import current_scope
from makersync.daemon.domain.errors import PermissionDenied


def scoped_account() -> str | None:
    """The one account the caller's key may act for; None when it may act for every account."""
    return current_scope().account_id


def check_account(account_id: str, field: str = "account_id") -> None:
    """Raise PermissionDenied when the caller's key may not act for ``account_id``."""
    allowed = current_scope().account_id
    if allowed is not None and account_id != allowed:
        raise PermissionDenied(field, "this key may act only for its own account")


def check_owner(lookup: Callable[[], Any], field: str) -> None:
    """For a scoped key, look the object up (its view has ``account_id``) and
    check it belongs to the key's account. The lookup raises NotFound."""
    if current_scope().account_id is None:
        return
    check_account(lookup().account_id, field)


def require_unscoped(what: str) -> None:
    """Raise PermissionDenied for a key scoped to one account (e.g. creating accounts)."""
    if current_scope().account_id is not None:
        raise PermissionDenied("", f"a key scoped to one account may not {what}")
