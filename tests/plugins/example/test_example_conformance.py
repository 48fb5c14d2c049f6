"""The example channel passes the SDK's conformance kit: the one subclass a
plugin developer writes for a new channel."""

from makersync.plugins.conformance import ChannelConformance
from makersync.plugins.example import ExampleChannel, ExampleSimulator


class TestExampleConformance(ChannelConformance):
    channel_class = ExampleChannel
    simulator_class = ExampleSimulator
    # Pages of 100 make the kit's default 240-order shop a 10-request pull, too few
    # for its fault draws (5 % errors, 3 % resets...) to land on any request.
    sim_options = {"seed": 11, "orders": 1000, "days": 45}
