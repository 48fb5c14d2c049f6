"""The Etsy channel plugin (Open API v3): receipts, listings with inventory,
and payment-ledger fees, plus its simulator."""

from makersync.plugins import hookimpl

from .channel import EtsyChannel
from .simulator import EtsySimulator

__all__ = ["EtsyChannel", "EtsySimulator"]


@hookimpl
def makersync_register_channels(register):  # type: ignore[no-untyped-def]
    register(EtsyChannel)
