"""Shared fixtures: the full Admin schema of 2022-07 (from ../shared), a fake
clock, a simulator and a channel wired to it in-process."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema, build_schema

from makersync.plugins import ChannelContext, FakeClock, Window
from makersync.plugins.shopify import ShopifyChannel, ShopifySimulator

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_NAME = "channel-specs/shopify/admin-2022-07.graphql"
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BASE_URL = "http://maker-sim.myshopify.test"


def full_schema_path() -> Path | None:
    """The real schema: $MAKERSYNC_SHARED, else ../shared beside the project."""
    for base in filter(None, (os.environ.get("MAKERSYNC_SHARED"), ROOT.parent / "shared", "/work/shared")):
        path = Path(base) / SCHEMA_NAME
        if path.is_file():
            return path
    return None


@pytest.fixture(scope="session")
def full_schema() -> GraphQLSchema:
    path = full_schema_path()
    if path is None:
        pytest.skip(f"the full Shopify schema ({SCHEMA_NAME}) is not beside the project")
    return build_schema(path.read_text(encoding="utf-8"), assume_valid=True)


@dataclass
class Rig:
    """A channel talking to a simulator through a tap that keeps every request."""

    clock: FakeClock
    sim: ShopifySimulator
    channel: ShopifyChannel
    requests: list[httpx.Request] = field(default_factory=list)
    saved: list[dict[str, str]] = field(default_factory=list)

    def window(self, days: int = 400) -> Window:
        return Window(self.clock.now() - timedelta(days=days), self.clock.now())

    def graphql_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith("/graphql.json")]

    def reconnect(self, **settings: Any) -> ShopifyChannel:
        """A fresh channel instance over the same simulator (as after a restart)."""
        return make_channel(self, settings)


def make_channel(rig: Rig, settings: dict[str, Any]) -> ShopifyChannel:
    def tap(request: httpx.Request) -> httpx.Response:
        rig.requests.append(request)
        return rig.sim(request)

    creds = rig.saved[-1] if rig.saved else rig.sim.credentials()
    ctx = ChannelContext(credentials=dict(creds), settings={**rig.sim.config_section(BASE_URL), **settings},
                         clock=rig.clock, transport=httpx.MockTransport(tap), save_credentials=rig.saved.append)
    return ShopifyChannel(ctx)


@pytest.fixture
def make_rig() -> Callable[..., Rig]:
    def build(settings: dict[str, Any] | None = None, **sim_options: Any) -> Rig:
        clock = FakeClock(sim_options.pop("start", START))
        options = {"seed": 5, "orders": 150, "days": 50, **sim_options}
        sim = ShopifySimulator.create(clock=clock, **options)
        clock.advance(600)
        rig = Rig(clock, sim, None)  # type: ignore[arg-type]
        rig.channel = make_channel(rig, settings or {})
        return rig
    return build
