"""The SDK's conformance kit run on the Etsy channel and its simulator
(R5, R11, R14, R15; QUALITY P2, F5, F6)."""


from makersync.plugins.conformance import ChannelConformance
from makersync.plugins.etsy import EtsyChannel, EtsySimulator


class TestEtsyConformance(ChannelConformance):
    channel_class = EtsyChannel
    simulator_class = EtsySimulator
