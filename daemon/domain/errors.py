"""The domain's exceptions; the api layer maps each to one gRPC status code.

::

    DomainError                 (field, rule, message)
    ├── InvalidArgument         a field breaks a rule             -> INVALID_ARGUMENT
    ├── NotFound                no such id (or not yours)          -> NOT_FOUND
    ├── AlreadyExists           a unique key is taken              -> ALREADY_EXISTS
    ├── FailedPrecondition      the state forbids it (R2, R3, R8)  -> FAILED_PRECONDITION
    ├── QuotaExceeded           the plan's store limit (R1)        -> RESOURCE_EXHAUSTED
    ├── PermissionDenied        the caller's key may not do it     -> PERMISSION_DENIED
    └── Unauthenticated         no valid key                       -> UNAUTHENTICATED

``str(error)`` is the full message: ``"<field>: <what> (<rule>)"``, e.g.
``start_date: must be on or after the account's floor 2026-01-01 (plan
lookback of 365 days) (R2)``. The message never carries secrets.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the domain errors.

    ``field`` names the request field at fault ('' when none); ``rule`` the
    rule cited (``"R2"``, or '' when none); ``detail`` the bare explanation.
    """

    code = "UNKNOWN"

    def __init__(self, field: str, detail: str, rule: str = "") -> None:
        self.field = field
        self.rule = rule
        self.detail = detail
        message = f"{field}: {detail}" if field else detail
        if rule:
            message = f"{message} ({rule})"
        self.message = message
        super().__init__(message)


class InvalidArgument(DomainError):
    """A field's value breaks a rule whatever the state of the books."""

    code = "INVALID_ARGUMENT"


class NotFound(DomainError):
    """The id names nothing (ids of other accounts count as nothing)."""

    code = "NOT_FOUND"


class AlreadyExists(DomainError):
    """The thing to create exists already (a unique key is taken)."""

    code = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    """The request is well formed but the books' state forbids it."""

    code = "FAILED_PRECONDITION"


class QuotaExceeded(DomainError):
    """A plan limit would be passed (R1 store limit)."""

    code = "RESOURCE_EXHAUSTED"


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""

    code = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    """The caller gave no valid key."""

    code = "UNAUTHENTICATED"
