"""The SDK's conformance kit on the Shopify channel and its simulator (R5, R11, R14, R15)."""

from makersync.plugins.conformance import ChannelConformance
from makersync.plugins.shopify import ShopifyChannel, ShopifySimulator


class TestShopifyConformance(ChannelConformance):
    channel_class = ShopifyChannel
    simulator_class = ShopifySimulator
