"""The Shopify channel plugin (GraphQL Admin API) and its simulator."""

from makersync.plugins import hookimpl

from .channel import ShopifyChannel
from .simulator import ShopifySimulator

ShopifyChannel.simulator_class = ShopifySimulator

__all__ = ["ShopifyChannel", "ShopifySimulator"]


@hookimpl
def makersync_register_channels(register):  # type: ignore[no-untyped-def]
    """Register the Shopify channel."""
    register(ShopifyChannel)
