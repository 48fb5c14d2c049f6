"""R2 on a fake clock: a channel's reach is relative to *now*, so every pull
places it again rather than trusting the instant computed at connect."""

from __future__ import annotations

from datetime import timedelta

from makersync.daemon import rules
from makersync.daemon.api import convert
from makersync.daemon.domain import integrations as dom_integrations
from tests.harness import Books

DAY_S = 86400


def _shopify_without_read_all_orders(harness: Books) -> tuple[str, str]:
    harness.add_sim("shopify", seed=8, orders=80, days=120, grant_all_orders=False)
    harness.start()
    account = harness.account()  # floor 2025-06-01: a year back, far past Shopify's 60 days
    store = harness.connect(account, "shopify")
    assert harness.run_pulls() == ["succeeded"]
    return account, store


def test_r2_manual_pull_a_month_after_connect_reads_only_the_last_60_days(harness: Books) -> None:
    """R2: a month after connect Shopify shows this app the last 60 days of
    *today*. A manual pull reaching back past them records its window from
    now - 60 d (not connect - 60 d), says so, and books no older order."""
    account, store = _shopify_without_read_all_orders(harness)
    harness.clock.advance(30 * DAY_S)
    now = harness.clock.now()
    reach = now - timedelta(days=60)

    pull_id = harness.manual_pull(store, (now - timedelta(days=75)).date().isoformat(),
                                  (now - timedelta(days=50)).date().isoformat())
    assert harness.run_pulls() == ["succeeded"]

    pull = harness.pull(pull_id)
    assert pull.window_start == reach
    assert any("R2" in w and f"{reach:%Y-%m-%d %H:%M}" in w for w in pull.warnings), pull.warnings


def test_r2_automatic_pull_a_month_after_connect_starts_at_now_minus_60_days(harness: Books) -> None:
    """R2: an automatic pull's window (floor to now) is narrowed to what the
    channel can read today, and the store shows that same, current, reach."""
    _, store = _shopify_without_read_all_orders(harness)
    harness.clock.advance(30 * DAY_S)
    now = harness.clock.now()

    pull_id = harness.automatic_pull(store)
    assert harness.run_pulls() == ["succeeded"]

    pull = harness.pull(pull_id)
    assert pull.window_start == now - timedelta(days=60)
    assert any("R2" in w for w in pull.warnings)
    assert harness.app is not None
    view = dom_integrations.get_store(harness.app.db, store)
    shown = convert.store_to_proto(view, now).reachable_since.ToDatetime().replace(tzinfo=now.tzinfo)
    assert shown == now - timedelta(days=60)


def test_r2_amazon_reach_is_two_years_back_from_each_pull(harness: Books) -> None:
    """R2: Amazon's two years count back from the pull, not from connect."""
    harness.add_sim("amazon", seed=5, orders=10, days=20)
    harness.start()
    account = harness.account()
    store_id = harness.connect(account, "amazon")
    harness.clock.advance(30 * DAY_S)
    now = harness.clock.now()
    assert harness.app is not None
    store = dom_integrations.get_store(harness.app.db, store_id)
    assert rules.reachable_since(now, store.reachable_since, store.reach) == now - timedelta(days=730)


def test_reachable_since_is_the_later_of_a_fixed_instant_and_the_rolling_reach() -> None:
    """A channel that declares nothing has no limit; one written before
    ``ShopInfo.reach`` keeps its fixed instant; where both apply, the later wins."""
    from tests.harness import START as now

    fixed = now - timedelta(days=10)
    assert rules.reachable_since(now, None, None) is None
    assert rules.reachable_since(now, fixed, None) == fixed
    assert rules.reachable_since(now, None, timedelta(days=60)) == now - timedelta(days=60)
    assert rules.reachable_since(now, fixed, timedelta(days=60)) == fixed
    assert rules.reachable_since(now, fixed, timedelta(days=5)) == now - timedelta(days=5)
