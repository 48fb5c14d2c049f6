"""The pull engine against a real SQLite file and the Etsy simulator on a fake
clock: one test per rule of RULES.md it carries, named after the rule."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from makersync.daemon.domain import accounts as dom_accounts
from makersync.daemon.domain import catalog as dom_catalog
from makersync.daemon.domain import integrations as dom_integrations
from makersync.daemon.domain.errors import FailedPrecondition
from makersync.daemon.store import leases
from makersync.plugins.simulate import Faults
from tests.harness import Books

CHANNEL = "etsy"


def _start(harness: Books, orders: int = 120, days: int = 40, plan: str = "business", **sim: object) -> tuple[str, str]:
    harness.add_sim(CHANNEL, seed=5, orders=orders, days=days, **sim)
    harness.start()
    account = harness.account(plan=plan)
    store = harness.connect(account, CHANNEL)
    assert harness.run_pulls() == ["succeeded"]
    return account, store


def _truth_orders(harness: Books) -> dict[str, object]:
    return {o.external_id: o for o in harness.sims[CHANNEL].truth()[0]}


def _book_orders(harness: Books, account: str) -> dict[str, object]:
    return {o.external_id: o for o in harness.orders(account)}


def test_r14_initial_pull_books_equal_ground_truth(harness: Books) -> None:
    """R14, R11, R12: after the initial pull the books hold every order and fee of
    the shop exactly once, to the cent."""
    account, _ = _start(harness)
    truth = _truth_orders(harness)
    booked = _book_orders(harness, account)
    assert set(booked) == set(truth)
    for ext, want in truth.items():
        got = booked[ext]
        assert (got.total, got.refunded, got.status, got.shipped_at) == (
            want.total, want.refunded, want.status.value, want.shipped_at), ext
        assert [(ln.sku, ln.quantity, ln.unit_price) for ln in got.lines] == [
            (ln.sku, ln.quantity, ln.unit_price) for ln in want.lines]
    fees = harness.fees(account)
    want_fees = harness.sims[CHANNEL].truth()[2]
    assert sorted((f.external_id, f.amount) for f in fees) == sorted((f.external_id, f.amount) for f in want_fees)
    assert sum((f.amount for f in fees), Decimal(0)) == sum((f.amount for f in want_fees), Decimal(0))


def test_r14_same_manual_pull_twice_leaves_books_unchanged(harness: Books) -> None:
    """R14: running the same pull twice leaves the books as one run left them."""
    account, store = _start(harness)
    today = harness.clock.now().date()
    start = (today - timedelta(days=20)).isoformat()
    first = harness.manual_pull(store, start, today.isoformat())
    harness.run_pulls()
    before = [(o.id, o.total, o.status, o.refunded) for o in harness.orders(account)]
    second = harness.manual_pull(store, start, today.isoformat())
    harness.run_pulls()
    counts = harness.pull(second).counts
    assert [(o.id, o.total, o.status, o.refunded) for o in harness.orders(account)] == before
    assert counts.get("orders_created", 0) == counts.get("orders_updated", 0) == 0
    assert counts.get("orders_unchanged", 0) > 0
    assert harness.pull(first).state == "succeeded"


def test_r9_listing_matches_maker_product_by_sku_then_title(harness: Books) -> None:
    """R9: a new listing links to the maker's product with the same SKU (trimmed,
    case-insensitive), else the same title, else a product is created."""
    harness.add_sim(CHANNEL, seed=5, orders=30, days=10)
    harness.start()
    account = harness.account()
    _, listings, _ = harness.sims[CHANNEL].truth()
    with_sku = next(li for li in listings if li.sku)
    without_sku = next(li for li in listings if not li.sku)
    by_sku = dom_catalog.create_product(harness.app.db, harness.clock, account, f"  {with_sku.sku.lower()} ", "Mine")
    by_title = dom_catalog.create_product(harness.app.db, harness.clock, account, "",
                                          "  " + without_sku.title.upper().replace(" ", "   "))
    harness.connect(account, CHANNEL)
    harness.run_pulls()
    products = {p.id: p for p in harness.products(account)}
    sku_links = {(li.external_id, li.external_variation_id): li for li in products[by_sku.id].listings}
    assert sku_links[(with_sku.external_id, with_sku.variation_external_id)].matched_by == "sku"
    title_links = [li for li in products[by_title.id].listings if li.external_id == without_sku.external_id]
    assert title_links and title_links[0].matched_by == "title"
    created = [p for p in products.values() if p.created_by == "pull"]
    assert created and all(li.matched_by in ("created", "sku", "title") for p in created for li in p.listings)


def test_r10_listing_change_never_changes_its_product(harness: Books) -> None:
    """R10: a new title on the channel updates the listing's record, not the product."""
    account, store = _start(harness)
    product = harness.products(account)[0]
    listing = product.listings[0]
    harness.sims[CHANNEL].apply_change({"action": "edit_listing", "listing": listing.external_id,
                                      "title": "Renamed On Etsy"})
    harness.clock.advance(3600)
    harness.automatic_pull(store)
    harness.run_pulls()
    after = dom_catalog.get_product(harness.app.db, product.id)
    assert after.title == product.title
    assert {li.title for li in after.listings if li.external_id == listing.external_id} == {"Renamed On Etsy"}


def test_r9_moved_listing_keeps_its_product_on_later_pulls(harness: Books) -> None:
    """R9: the maker may move a listing; later pulls follow the move."""
    account, store = _start(harness)
    target = dom_catalog.create_product(harness.app.db, harness.clock, account, "", "Gift Box")
    listing = harness.products(account)[0].listings[0]
    dom_catalog.move_listing(harness.app.db, listing.id, target.id)
    harness.clock.advance(3600)
    harness.automatic_pull(store)
    harness.run_pulls()
    moved = dom_catalog.get_product(harness.app.db, target.id)
    assert [(li.id, li.matched_by) for li in moved.listings] == [(listing.id, "moved")]


def test_r7_local_edit_overwritten_by_next_pull_and_recorded(harness: Books) -> None:
    """R7: a local edit to a pulled order is overwritten by the next pull that
    reads it, and the overwrite records exactly the local values it replaced:
    the maker's own note and location, which the channel has no value for, stay."""
    account, store = _start(harness)
    order = max(harness.orders(account), key=lambda o: o.placed_at)
    location = dom_accounts.create_location(harness.app.db, harness.clock, account, "Shed")
    edited_ship = datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)
    dom_catalog.update_order(harness.app.db, harness.clock, order.id, note="packed with care",
                             location_id=location.id, shipped_at=edited_ship)
    placed = order.placed_at.date().isoformat()
    pull_id = harness.manual_pull(store, placed, placed)
    harness.run_pulls()
    after = dom_catalog.get_order(harness.app.db, order.id)
    assert after.shipped_at == order.shipped_at  # the channel's date is back
    assert (after.note, after.location_id) == ("packed with care", location.id)
    assert [(o.pull_id, o.local_values) for o in after.overwrites] == [
        (pull_id, {"shipped_at": edited_ship.isoformat()})]
    assert after.locally_edited  # the note and location are still the maker's edits


def test_r7_pull_records_no_overwrite_when_it_replaces_no_edit(harness: Books) -> None:
    """R7: a pull that reads an order whose only edits are the maker's note and
    location replaces nothing, so records no overwrite."""
    account, store = _start(harness)
    order = max(harness.orders(account), key=lambda o: o.placed_at)
    location = dom_accounts.create_location(harness.app.db, harness.clock, account, "Shed")
    dom_catalog.update_order(harness.app.db, harness.clock, order.id, note="gift wrap please",
                             location_id=location.id)
    placed = order.placed_at.date().isoformat()
    harness.manual_pull(store, placed, placed)
    harness.run_pulls()
    after = dom_catalog.get_order(harness.app.db, order.id)
    assert (after.note, after.location_id) == ("gift wrap please", location.id)
    assert after.overwrites == [] and after.locally_edited


def test_r7_deleted_order_stays_deleted_on_automatic_and_returns_on_manual(harness: Books) -> None:
    """R7, R4: automatic pulls respect a deletion; a manual pull over its day recreates it."""
    account, store = _start(harness)
    order = max(harness.orders(account), key=lambda o: o.placed_at)
    dom_catalog.delete_order(harness.app.db, harness.clock, order.id)
    harness.clock.advance(3600)
    auto = harness.automatic_pull(store)
    harness.run_pulls()
    assert order.external_id not in _book_orders(harness, account)
    assert harness.pull(auto).counts.get("orders_skipped_deleted", 0) >= 1
    placed = order.placed_at.date().isoformat()
    manual = harness.manual_pull(store, placed, placed)
    harness.run_pulls()
    assert order.external_id in _book_orders(harness, account)
    assert harness.pull(manual).counts.get("orders_recreated", 0) == 1


def test_r6_automatic_shipped_date_only_for_orders_first_pulled_after(harness: Books) -> None:
    """R6: with automatic_shipped_date on, orders first pulled afterwards get their
    placed date as shipped date when the channel has none; older orders keep theirs."""
    account, store = _start(harness)
    unshipped_before = {o.external_id for o in harness.orders(account) if o.shipped_at is None}
    dom_integrations.configure(harness.app.db, harness.clock, harness.app.plans, account, CHANNEL, {CHANNEL},
                               automatic_shipped_date=True)
    harness.clock.advance(600)
    new = harness.sims[CHANNEL].apply_change({"action": "new_order"})
    harness.clock.advance(600)
    harness.automatic_pull(store)
    harness.run_pulls()
    booked = _book_orders(harness, account)
    assert booked[new["external_id"]].shipped_at == booked[new["external_id"]].placed_at
    assert all(booked[e].shipped_at is None for e in unshipped_before if e in booked)


def test_r8_default_location_given_to_pulled_orders(harness: Books) -> None:
    """R8: on a plan that allows it, orders pulled from the integration's stores
    are placed at its default location."""
    harness.add_sim(CHANNEL, seed=5, orders=20, days=10)
    harness.start()
    account = harness.account(plan="business")
    from makersync.daemon.domain import accounts as dom_accounts
    location = dom_accounts.create_location(harness.app.db, harness.clock, account, "Studio")
    dom_integrations.configure(harness.app.db, harness.clock, harness.app.plans, account, CHANNEL, {CHANNEL},
                               default_location_id=location.id)
    harness.connect(account, CHANNEL)
    harness.run_pulls()
    assert {o.location_id for o in harness.orders(account)} == {location.id}


def test_r5_refund_hidden_from_modified_time_found_by_automatic_pull(harness: Books) -> None:
    """R5, R11: Etsy leaves a receipt's modified time alone on a refund; the next
    automatic pull still brings the refund to the harness."""
    account, store = _start(harness)
    target = next(o for o in sorted(harness.orders(account), key=lambda o: o.placed_at, reverse=True)
                  if o.refunded == 0 and o.status != "cancelled")
    harness.clock.advance(1800)
    harness.sims[CHANNEL].apply_change({"action": "refund", "order": target.external_id, "amount": "5.00"})
    harness.clock.advance(1800)
    harness.automatic_pull(store)
    assert harness.run_pulls() == ["succeeded"]
    assert _book_orders(harness, account)[target.external_id].refunded == Decimal("5.00")


def test_r2_nothing_before_the_floor_reaches_the_books(harness: Books) -> None:
    """R2: no pull reads data from before the account's floor."""
    harness.add_sim(CHANNEL, seed=5, orders=80, days=60)
    harness.start()
    floor_day = (harness.clock.now() - timedelta(days=20)).date().isoformat()
    account = harness.account(start_date=floor_day)
    harness.connect(account, CHANNEL)
    harness.run_pulls()
    orders = harness.orders(account)
    assert orders and min(o.placed_at for o in orders).date().isoformat() >= floor_day
    assert len(orders) < len(harness.sims[CHANNEL].truth()[0])


def test_r4_manual_pull_before_floor_refused_and_nothing_queued(harness: Books) -> None:
    """R4, R2: a manual range starting before the floor is refused, naming the floor."""
    account, store = _start(harness, plan="trial")
    today = harness.clock.now().date()
    with pytest.raises(FailedPrecondition, match="floor"):
        harness.manual_pull(store, (today - timedelta(days=40)).isoformat(), (today - timedelta(days=35)).isoformat())
    assert harness.run_pulls() == []


def test_r4_second_pull_of_a_store_waits_its_turn(harness: Books) -> None:
    """R4: while one pull of a store runs, another waits in the queue (not merged, not refused)."""
    account, store = _start(harness)
    today = harness.clock.now().date().isoformat()
    first = harness.manual_pull(store, today, today)
    second = harness.manual_pull(store, today, today)
    owner = harness.app.engine.settings.owner
    claim = leases.claim_next(harness.app.db, owner, harness.clock.now(), 60)
    assert claim is not None and str(claim.pull_id) == first
    assert leases.claim_next(harness.app.db, owner, harness.clock.now(), 60) is None
    assert harness.pull(second).state == "queued"
    harness.app.engine.run(claim, threading.Event())
    assert harness.run_pulls() == ["succeeded"]
    assert harness.pull(second).state == "succeeded"


def test_r15_bad_records_set_aside_and_pull_goes_on(harness: Books) -> None:
    """R15: malformed records from the channel are set aside with their reason;
    the pull succeeds and says how many."""
    harness.add_sim(CHANNEL, seed=5, orders=150, days=30, faults=Faults(malformed_rate=0.05))
    harness.start()
    account = harness.account()
    store = harness.connect(account, CHANNEL)
    assert harness.run_pulls() == ["succeeded"]
    pull = harness.pull(harness.app.status(account).stores[0].last_pull.id)
    assert pull.counts.get("records_set_aside", 0) > 0
    assert len(pull.set_aside) == pull.counts.get("records_set_aside", 0)
    assert all(s["reason"] if isinstance(s, dict) else s.reason for s in pull.set_aside)
    assert len(harness.orders(account)) > 0
    assert store


def test_dry_run_reports_changes_and_writes_nothing(harness: Books) -> None:
    """A dry run reads the channel and counts what it would do, writing nothing."""
    harness.add_sim(CHANNEL, seed=5, orders=60, days=20)
    harness.start()
    account = harness.account()
    store = harness.connect(account, CHANNEL)
    initial = harness.app.status(account).stores[0].last_pull.id
    from makersync.daemon.domain import pulls as dom_pulls
    dom_pulls.cancel_pull(harness.app.db, harness.clock, initial)
    today = harness.clock.now().date()
    dry = harness.manual_pull(store, (today - timedelta(days=10)).isoformat(), today.isoformat(), dry_run=True)
    harness.run_pulls()
    assert harness.orders(account) == [] and harness.fees(account) == []
    counts = harness.pull(dry).counts
    assert counts.get("orders_created", 0) > 0 and harness.pull(dry).dry_run


def test_f2_pull_stopped_at_every_page_resumes_to_the_same_books(harness: Books) -> None:
    """R14, QUALITY F2: a pull stopped after any page and resumed ends with the
    books of one uninterrupted run."""
    harness.add_sim(CHANNEL, seed=9, orders=260, days=40)
    harness.start()
    account = harness.account()
    harness.connect(account, CHANNEL)
    stop = threading.Event()
    stops = 0
    original = harness.app.events.bump

    def bump_and_stop(pull_id: int) -> None:
        original(pull_id)
        stop.set()

    harness.app.events.bump = bump_and_stop  # type: ignore[method-assign]
    owner = harness.app.engine.settings.owner
    while True:
        claim = leases.claim_next(harness.app.db, owner, harness.clock.now(), 60)
        if claim is None:
            break
        stop.clear()
        state = harness.app.engine.run(claim, stop)
        stops += state == "queued"
    assert stops > 5, "the pull should have been stopped at many page boundaries"
    truth = _truth_orders(harness)
    booked = _book_orders(harness, account)
    assert set(booked) == set(truth)
    assert all(booked[k].total == truth[k].total and booked[k].refunded == truth[k].refunded for k in truth)
    want_fees = harness.sims[CHANNEL].truth()[2]
    assert len(harness.fees(account)) == len(want_fees)


def test_o2_pull_error_quoting_a_credential_is_stored_masked(harness: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    """QUALITY O2: a channel error that quotes a credential fails the pull, but
    the stored error (and so GetPull) never holds the secret."""
    from makersync.plugins import PermanentChannelError
    from makersync.plugins.etsy import EtsyChannel

    harness.add_sim(CHANNEL, seed=5, orders=10, days=5)
    harness.start()
    account = harness.account()
    token = harness.sims[CHANNEL].credentials()["access_token"]

    def refuse(self: EtsyChannel, window: object, cursor: object = None) -> object:
        raise PermanentChannelError(f"the shop refused token {token}")

    monkeypatch.setattr(EtsyChannel, "iter_orders", refuse)
    harness.connect(account, CHANNEL)
    assert harness.run_pulls() == ["failed"]
    pull = harness.pull(harness.app.status(account).stores[0].last_pull.id)
    assert "the shop refused token" in pull.error
    assert token not in pull.error


def _drop_the_connection_before_the_pull_ends(harness: Books, monkeypatch: pytest.MonkeyPatch,
                                              meanwhile: Callable[[], None] = lambda: None) -> list[str]:
    """The database drops the pull's connection just before its last write (as
    PostgreSQL does to a session left idle in a transaction by a paused
    daemon). On PostgreSQL the session is really terminated. Returns the log
    of what happened."""
    import peewee

    from makersync.daemon.store import pullstate

    original = pullstate.finish
    happened: list[str] = []

    def drop_then_finish(*args: object, **kwargs: object) -> None:
        if not happened:
            happened.append("dropped")
            meanwhile()
            if not harness.app.db.is_sqlite:
                with contextlib.suppress(peewee.DatabaseError):
                    harness.app.db.pw.execute_sql("SELECT pg_terminate_backend(pg_backend_pid())")
                return original(*args, **kwargs)  # on the dead connection: raises
            raise peewee.OperationalError("server closed the connection unexpectedly")
        happened.append("written again")
        return original(*args, **kwargs)

    monkeypatch.setattr(pullstate, "finish", drop_then_finish)
    return happened


def test_s1_a_dropped_connection_does_not_leave_the_pull_running(harness: Books,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """QUALITY S1, R14: a pull whose connection the database dropped before its
    last write ends on a fresh connection (it is not left 'running' for its
    lease to expire and the store to be pulled again)."""
    harness.add_sim(CHANNEL, seed=5, orders=40, days=10)
    harness.start()
    account = harness.account()
    happened = _drop_the_connection_before_the_pull_ends(harness, monkeypatch)
    harness.connect(account, CHANNEL)
    assert harness.run_pulls() == ["succeeded"]
    assert happened == ["dropped", "written again"]
    assert harness.app.status(account).stores[0].last_pull.state == "succeeded"
    assert len(harness.orders(account)) == 40


def test_s1_a_dropped_connection_and_a_lost_lease_write_nothing(harness: Books,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """QUALITY S1: when the connection dropped because the daemon was paused
    past its lease and another daemon took the store, writing again on a fresh
    connection is refused by the lease (fencing): the pull ends 'lease lost'
    here and its row stays as the new holder has it."""
    from makersync.daemon.store.models import LeaseRow, PullRow

    harness.add_sim(CHANNEL, seed=5, orders=40, days=10)
    harness.start()
    account = harness.account()

    def another_daemon_takes_the_store() -> None:
        with harness.app.db.write_tx():
            LeaseRow.update(owner="another-daemon", fencing_token=LeaseRow.fencing_token + 1).execute()
            PullRow.update(lease_owner="another-daemon").where(PullRow.state == "running").execute()

    happened = _drop_the_connection_before_the_pull_ends(harness, monkeypatch, another_daemon_takes_the_store)
    harness.connect(account, CHANNEL)
    assert harness.run_pulls() == ["lease_lost"]
    assert happened == ["dropped", "written again"]
    pull = harness.app.status(account).stores[0].last_pull
    assert pull.state == "running"  # the new holder's to end
    holder = PullRow.select(PullRow.lease_owner).where(PullRow.id == int(pull.id)).scalar()
    assert holder == "another-daemon"


def test_s1_a_pull_taken_over_and_ended_before_it_starts_says_lease_lost(harness: Books,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """QUALITY S1: a daemon paused just as its pull starts, past its lease,
    while another daemon takes the store and ends the pull, writes nothing and
    says 'lease lost' (it used to end silently, as if the pull were its own)."""
    from makersync.daemon.store import pullstate
    from makersync.daemon.store.models import LeaseRow, PullRow

    harness.add_sim(CHANNEL, seed=5, orders=10, days=5)
    harness.start()
    account = harness.account()
    harness.connect(account, CHANNEL)
    owner = harness.app.engine.settings.owner
    claim = leases.claim_next(harness.app.db, owner, harness.clock.now(), 60)
    assert claim is not None
    original = pullstate.load_plan

    def taken_over_and_ended_meanwhile(*args: object, **kwargs: object) -> object:
        with harness.app.db.write_tx():
            LeaseRow.update(owner="", fencing_token=LeaseRow.fencing_token + 1).execute()
            PullRow.update(state="succeeded", lease_owner="another-daemon",
                           fencing_token=PullRow.fencing_token + 1).where(PullRow.id == claim.pull_id).execute()
        return original(*args, **kwargs)

    monkeypatch.setattr(pullstate, "load_plan", taken_over_and_ended_meanwhile)
    assert harness.app.engine.run(claim, threading.Event()) == "lease_lost"
    assert harness.orders(account) == []



def test_r2_amazon_store_not_warned_when_floor_within_two_years(harness: Books) -> None:
    """R2: warn only where a channel cannot reach back as far as the floor. A
    floor of 2025-11-27 is well within Amazon's two years: no warning on the
    store, though its reach is still kept for the pulls."""
    harness.add_sim("amazon", seed=5, orders=10, days=20)
    harness.start()
    account = harness.account(plan="business", start_date="2025-11-27")
    store = dom_integrations.get_store(harness.app.db, harness.connect(account, "amazon"))
    assert not [w for w in store.warnings if "two years" in w]
    assert store.reach == timedelta(days=730)
