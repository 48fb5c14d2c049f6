"""The Amazon Selling Partner API channel (orders, FBA listings, fees and refunds)."""

from collections.abc import Callable

from makersync.plugins import hookimpl

from .channel import AmazonChannel
from .simulator import AmazonSimulator

__all__ = ["AmazonChannel", "AmazonSimulator", "makersync_register_channels"]


@hookimpl
def makersync_register_channels(register: Callable[[type], None]) -> None:
    register(AmazonChannel)
