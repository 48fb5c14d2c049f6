"""Request checks the api layer owns: required ids, page sizes, date formats,
enum values. Each refusal is InvalidArgument naming the field and the rule;
the rules of the books themselves (R1-R15) are checked by the domain."""

from __future__ import annotations

import re
from typing import Any

from makersync.daemon.domain.errors import InvalidArgument
from makersync.daemon.rules import parse_date

MAX_PAGE_SIZE = 1000
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def require_id(value: str, field: str) -> str:
    """``value`` when it is a non-empty id; InvalidArgument naming ``field`` otherwise."""
    if not value or not value.strip():
        raise InvalidArgument(field, "is required and must not be empty")
    return value


def require_text(value: str, field: str) -> str:
    """``value`` when it has non-blank text; InvalidArgument otherwise."""
    if not value or not value.strip():
        raise InvalidArgument(field, "is required and must not be blank")
    return value


def page_size(value: int, field: str = "page_size") -> int:
    """A page size 0 (server default) to 1000; larger values are lowered to 1000."""
    if value < 0:
        raise InvalidArgument(field, f"must be 0 (the server's default) to {MAX_PAGE_SIZE}, got {value}")
    return min(value, MAX_PAGE_SIZE)


def date_str(value: str, field: str, *, required: bool = False) -> str:
    """``value`` when it is a ``YYYY-MM-DD`` date ('' allowed unless ``required``)."""
    if not value and not required:
        return ""
    if not value:
        raise InvalidArgument(field, "is required: a date YYYY-MM-DD")
    if not _ISO_DAY.fullmatch(value):  # fromisoformat alone takes week dates such as 2026-W01-1
        raise InvalidArgument(field, f"must be a date YYYY-MM-DD, got {value!r}")
    parse_date(value, field)
    return value


def date_range(start: str, end: str, start_field: str, end_field: str) -> None:
    """Refuse a range whose first day is after its last (both already valid or '')."""
    if start and end and start > end:
        raise InvalidArgument(start_field, f"must not be after {end_field} {end}, got {start}")


def enum_number(enum: Any, number: int, field: str, *, allow_unspecified: bool = False) -> int:
    """``number`` when it is a known value of ``enum`` (UNSPECIFIED refused unless allowed)."""
    if number not in enum.values():
        raise InvalidArgument(field, f"unknown value {number}; known: {', '.join(enum.keys()[1:])}")
    if number == 0 and not allow_unspecified:
        raise InvalidArgument(field, f"must be set to one of {', '.join(enum.keys()[1:])}")
    return number


MAX_CREDENTIAL_CHARS = 8192
"""Amazon's tokens are up to 2048 bytes; nothing a channel issues comes near this."""
_CREDENTIAL_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def credentials(values: Any) -> None:
    """Credential names are snake tokens and values printable ASCII (tokens,
    ids, domains: they travel in HTTP headers and forms) of at most
    :data:`MAX_CREDENTIAL_CHARS`; InvalidArgument naming ``credentials.<name>``
    otherwise. The value itself is never repeated: it may be a secret."""
    for name, value in values.items():
        if not _CREDENTIAL_NAME.fullmatch(name):
            shown = name if name.isascii() and name.isprintable() and len(name) <= 64 else "?"
            raise InvalidArgument(f"credentials.{shown}", "is not a credential name (lower-case letters, digits, _)")
        if len(value) > MAX_CREDENTIAL_CHARS:
            raise InvalidArgument(f"credentials.{name}", f"must be at most {MAX_CREDENTIAL_CHARS} characters, "
                                                         f"got {len(value)}")
        if not (value.isascii() and value.isprintable()):
            raise InvalidArgument(f"credentials.{name}", "must be printable ASCII (no control characters, "
                                                         "no characters outside ASCII)")
