"""Token faults (QUALITY F6): access tokens that expire mid-pull, page tokens
that expire mid-pull, and the daemon killed between receiving a rotated
refresh token and saving it; where a channel truly refuses the credentials,
the store shows NEEDS_RECONNECT, its pulls stop, and signing in again repairs it.

What happens after a kill depends on the channel, not on us: the daemon saves
a rotated refresh token before it uses the new access token (``TokenAuth``),
so the only window is between the channel's answer and that save. If the
channel retired the old refresh token at once, nothing the daemon can do
brings the store back: the maker signs in again. The simulators say which
channel does what (``previous_refresh_token``), from the evidence in
CHANNELS.md and the channels' own words:

* Amazon LWA returns the refresh token unchanged (CHANNELS.md 3.2): a kill
  costs nothing.
* Shopify keeps the previous refresh token working until its replacement is
  first used (changelog 2026-08-28, "More resilient refreshes for expiring
  offline access tokens"; 60 minutes before that): a kill costs nothing.
* Etsy rotates and, by third-party reports (CHANNELS.md 1.2, etsy/open-api#353,
  #519), retires the old token at once, with no documented grace: a kill in
  that window strands the store until the maker signs in again.

The suite runs each channel in its documented mode and, for Etsy and Shopify,
in the strict mode too, and reports how many kills left a store needing the
maker.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import trust_figures
from conftest import soak
from trust_kit import (
    Served,
    SimulatedKill,
    TrustBooks,
    advance,
    compare_books,
    revoke,
    shop_changes,
    sign_in_again,
)

from makersync.daemon.domain import integrations as dom_integrations
from makersync.daemon.store import secrets
from makersync.plugins.simulate import Faults, Simulator
from makersync.v1 import integrations_pb2, pulls_pb2, resources_pb2, status_pb2

DOCUMENTED = {"etsy": "strict", "shopify": "until_used", "amazon": "unchanged"}
TOKEN_PATHS = {"etsy": "/v3/public/oauth/token", "shopify": "/admin/oauth/access_token", "amazon": "/auth/o2/token"}


class KillSwitch:
    """Kills the daemon (raises :class:`SimulatedKill`) when it is about to save
    credentials the channel just rotated: the new tokens exist only in the
    dying process's memory."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.armed = False
        self.kills = 0
        self.saves = 0
        real = secrets.save_credentials

        def save(db: Any, box: Any, store_id: int, credentials: Any) -> None:
            self.saves += 1
            if self.armed and "access_token" in credentials:
                self.armed = False
                self.kills += 1
                raise SimulatedKill("killed after the channel answered, before the save")
            real(db, box, store_id, credentials)

        monkeypatch.setattr(secrets, "save_credentials", save)


def expiring_sim(books: TrustBooks, channel: str, mode: str, *, orders: int = 160, seed: int = 4,
                 ttl_s: float = 300.0, latency_s: float = 25.0, **faults: Any) -> Simulator:
    """A simulator whose access tokens last ``ttl_s`` while each request takes
    ``latency_s`` of the fake clock: tokens expire every few requests."""
    sim = books.add_sim(channel, seed=seed, orders=orders, days=40,
                        faults=Faults(seed=seed, access_token_ttl_s=ttl_s, latency_s=latency_s, **faults))
    if mode in ("strict", "until_used", "window"):
        sim.previous_refresh_token = mode  # type: ignore[attr-defined]
    return sim


def token_requests(books: TrustBooks, channel: str) -> int:
    return books.handlers[channel].paths[TOKEN_PATHS[channel]]


def store_state(books: TrustBooks, store_id: str) -> str:
    assert books.app is not None
    return dom_integrations.get_store(books.app.db, store_id).state


# --- access tokens and page tokens expiring mid-pull -----------------------------------


@pytest.mark.parametrize("channel", ["etsy", "shopify", "amazon"])
def test_f6_access_token_expiring_mid_pull_is_refreshed_and_books_equal_truth(tmp_path: Path, channel: str) -> None:
    """F6: access tokens that last five minutes while every request takes 25 s:
    each pull refreshes several times (on expiry ahead of time, and on a 401 or
    Amazon's 403 when the channel said a longer lifetime), every pull succeeds,
    the store stays active, and the books equal the truth."""
    books = TrustBooks(tmp_path)
    try:
        sim = expiring_sim(books, channel, DOCUMENTED[channel], orders=soak(200, 1500))
        books.start()
        account = books.account()
        store = books.connect(account, channel)
        states = books.run_pulls()
        compared = compare_books(books, account, sim)
        rng = random.Random(5)
        for _ in range(soak(2, 10)):
            shop_changes(sim, rng, 8)
            advance(books, 2)
            books.automatic_pull(store)
            states += books.run_pulls()
            compared += compare_books(books, account, sim)
        assert states == ["succeeded"] * len(states), [p.error for p in books.pulls_of(store)]
        assert store_state(books, store) == "active"
        refreshes = token_requests(books, channel)
        assert refreshes >= len(states), refreshes  # several expiries a pull, really refreshed
        trust_figures.add("tokens F6 (access token expiry)", pulls_run=len(states), records_compared=compared,
                          tokens_refreshed=refreshes)
    finally:
        books.close()


def test_f6_fba_page_token_expiring_mid_pull_restarts_the_scan_and_loses_nothing(tmp_path: Path) -> None:
    """F6: Amazon's FBA inventory page tokens die after 30 s
    (Faults.page_token_ttl_s). Twice the next page is asked for 40 s after its
    token was issued; the channel restarts that marketplace's scan (it is
    cheap) and the pull succeeds with every listing exactly once."""
    books = TrustBooks(tmp_path)
    try:
        sim = books.add_sim("amazon", seed=6, orders=150, days=30, faults=Faults(page_token_ttl_s=30.0))
        sim.inventory_page = 4  # type: ignore[attr-defined]  # many pages, so many page tokens
        books.start()
        handler = books.handlers["amazon"]
        delayed = [0]

        def late_for_the_next_page(request: httpx.Request) -> None:
            if "nextToken" in request.url.params and delayed[0] < 2:
                delayed[0] += 1
                books.clock.advance(40.0)  # the token in this request is now 40 s old

        handler.before = late_for_the_next_page
        account = books.account()
        store = books.connect(account, "amazon")
        states = books.run_pulls()
        assert states == ["succeeded"], [p.error for p in books.pulls_of(store)]
        assert delayed[0] == 2 and handler.statuses[400] >= 2, "the simulator never refused a stale page token"
        listings = sorted((li.external_id, li.external_variation_id)
                          for p in books.products(account) for li in p.listings)
        truth = sorted((li.external_id, li.variation_external_id) for li in sim.truth()[1])
        assert listings == truth
        compared = compare_books(books, account, sim) + len(truth)
        trust_figures.add("tokens F6 (page token expiry)", pulls_run=1, records_compared=compared,
                          page_tokens_expired=handler.statuses[400])
    finally:
        books.close()


def test_f6_orders_page_token_expiring_after_a_kill_resumes_from_the_checkpoint(tmp_path: Path) -> None:
    """F6: the daemon dies mid-pull and comes back after Amazon's searchOrders
    page token has expired (24 h, shortened here to 60 s). The pull resumes
    from its checkpoint, the channel reads the search again from its start
    (refused token), and the books hold every order once."""
    books = TrustBooks(tmp_path)
    try:
        sim = books.add_sim("amazon", seed=8, orders=450, days=50)
        sim.orders_token_ttl_s = 60.0  # type: ignore[attr-defined]
        books.start()
        handler = books.handlers["amazon"]
        account = books.account()
        store = books.connect(account, "amazon")
        searches = [0]

        def die_on_second_search_page(request: httpx.Request, response: httpx.Response) -> httpx.Response:
            if request.url.path.endswith("/orders/2026-01-01/orders") and "paginationToken" in request.url.params:
                searches[0] += 1
                if searches[0] == 2:
                    raise SimulatedKill("killed mid-pull")
            return response

        handler.mutate = die_on_second_search_page
        with pytest.raises(SimulatedKill):
            books.run_pulls()
        pulled_before = len(books.orders(account))
        handler.mutate = None
        books.restart(after_s=600)  # the page token in the checkpoint is 10 minutes old now
        states = books.run_pulls()
        assert states == ["succeeded"], [p.error for p in books.pulls_of(store)]
        compared = compare_books(books, account, sim)
        assert 0 < pulled_before < len(sim.truth()[0])
        trust_figures.add("tokens F6 (page token expiry)", pulls_run=2, records_compared=compared, kills=1,
                          page_tokens_expired=1)
    finally:
        books.close()


# --- the daemon killed between receiving and saving rotated tokens ------------------------


KILL_CASES = [("amazon", "unchanged"), ("shopify", "until_used"), ("shopify", "strict"),
              ("etsy", "strict"), ("etsy", "until_used")]


@pytest.mark.parametrize(("channel", "mode"), KILL_CASES, ids=[f"{c}-{m}" for c, m in KILL_CASES])
def test_f6_killed_between_receiving_and_saving_rotated_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               channel: str, mode: str) -> None:
    """F6, many times: the daemon dies the moment the channel has answered a
    refresh and before the new tokens are saved; it restarts on the same
    database and its pulls resume from their checkpoints.

    Where the channel keeps the previous refresh token (Shopify, or never
    rotates it: Amazon) every store recovers by itself: 0 stores need the
    maker. Where it retires it at once (Etsy by every report; Shopify forced
    strict) each kill strands the store: it shows NEEDS_RECONNECT, its pull
    fails once with a clear error and no pull retries; the maker signs in
    again and the books then reach the truth with nothing lost."""
    kill = KillSwitch(monkeypatch)
    books = TrustBooks(tmp_path)
    rounds = soak(6, 40)
    stranded = compared = 0
    try:
        sim = expiring_sim(books, channel, mode, orders=120, seed=9)
        books.start()
        account = books.account()
        store = books.connect(account, channel)
        rng = random.Random(11)
        for round_no in range(rounds + 1):
            kill.armed = round_no < rounds
            try:
                states = books.run_pulls()
            except SimulatedKill:
                books.restart()
                states = books.run_pulls()
            kill.armed = False
            if store_state(books, store) == "needs_reconnect":
                # Where the channel retired the token, the kill of this round or the
                # last surfaces here: one failed pull saying so, then nothing.
                stranded += 1
                assert states[-1:] == ["failed"], states
                failed = [p for p in books.pulls_of(store) if p.state == "failed"]
                assert "reconnect" in failed[0].error, failed[0].error
                assert_pulls_stopped(books, channel, store)
                repair(books, account, channel, sim)
                states = books.run_pulls()
            assert states and all(s == "succeeded" for s in states), [p.error for p in books.pulls_of(store)]
            compared += compare_books(books, account, sim)
            shop_changes(sim, rng, 5)
            advance(books, 1)
            books.automatic_pull(store)
        assert kill.kills >= rounds - 1, f"only {kill.kills} kills in {rounds} rounds"
        if mode in ("unchanged", "until_used"):
            assert stranded == 0, f"{stranded} of {kill.kills} kills left the store needing the maker"
        else:
            assert stranded == kill.kills, f"strict rotation: {stranded} strands for {kill.kills} kills"
    finally:
        trust_figures.add("tokens F6 (kill before saving rotated tokens)", kills=kill.kills,
                          restarts=books.restarts, stores_stranded=stranded,
                          stores_recovered_alone=kill.kills - stranded, records_compared=compared)
        trust_figures.note("tokens F6 (kill before saving rotated tokens)",
                           f"{channel} ({mode}): {stranded} of {kill.kills} kills needed the maker to sign in again")
        books.close()


def assert_pulls_stopped(books: TrustBooks, channel: str, store: str) -> None:
    """A store needing reconnect gets no pull and costs the channel nothing:
    two simulated days of scheduler ticks queue none, and the runner finds none."""
    from makersync.daemon.scheduler import Scheduler

    assert books.app is not None
    before = books.handlers[channel].requests
    pulls_before = len(books.pulls_of(store))
    scheduler = Scheduler(books.app)
    for _ in range(2 * 24 * 2):
        advance(books, 0.5)
        scheduler.tick(books.clock.now())
        assert books.run_pulls() == []
    assert len(books.pulls_of(store)) == pulls_before
    assert books.handlers[channel].requests == before


def repair(books: TrustBooks, account: str, channel: str, sim: Simulator) -> None:
    """The maker signs in again and connects the same shop: the store is
    repaired in place (same id, ACTIVE), then an automatic pull catches up."""
    assert books.app is not None
    fresh = sign_in_again(sim)
    store = dom_integrations.list_stores(books.app.db, account, 10, "").items[0]
    view = books.app.connect(account, channel, fresh, "")
    assert view.id == store.id and view.state == "active"
    books.automatic_pull(store.id)


def test_f6_token_answer_lost_in_transit_strict_vs_kept(tmp_path: Path) -> None:
    """The same window without a kill: the channel rotates the refresh token and
    the answer is lost on the way (a reset after the channel did the work). The
    client sends the refresh again with the token it has. A channel that keeps
    the previous token answers it (the pull goes on); a strict one refuses it
    and the store needs the maker (one failed pull, NEEDS_RECONNECT, no retries)."""
    outcomes = {}
    for mode in ("until_used", "strict"):
        books = TrustBooks(tmp_path / mode)
        try:
            expiring_sim(books, "shopify", mode, orders=200, seed=12, ttl_s=200.0)
            books.start()
            handler = books.handlers["shopify"]
            lost = [0]

            def lose_first_token_answer(request: httpx.Request, response: httpx.Response,
                                        lost: list[int] = lost) -> httpx.Response:
                if request.url.path == TOKEN_PATHS["shopify"] and response.status_code == 200 and not lost[0]:
                    lost[0] += 1
                    raise httpx.ReadError("connection reset after the answer was sent (simulated)", request=request)
                return response

            account = books.account()
            store = books.connect(account, "shopify")
            handler.mutate = lose_first_token_answer
            states = books.run_pulls()
            outcomes[mode] = (states, store_state(books, store), lost[0])
            trust_figures.add("tokens F6 (kill before saving rotated tokens)", answers_lost=lost[0])
        finally:
            books.close()
    assert outcomes["until_used"] == (["succeeded"], "active", 1)
    assert outcomes["strict"] == (["failed"], "needs_reconnect", 1)


# --- refused credentials: NEEDS_RECONNECT, pulls stop, Connect repairs ----------------------


@pytest.fixture
def refused(tmp_path: Path) -> Iterator[tuple[TrustBooks, Served, str, str, Simulator]]:
    books = TrustBooks(tmp_path)
    sim = books.add_sim("etsy", seed=13, orders=60, days=20)
    books.start()
    account = books.account()
    store = books.connect(account, "etsy")
    assert books.run_pulls() == ["succeeded"]
    revoke(sim)
    advance(books, 1)
    books.automatic_pull(store)
    served = Served(books.app)
    try:
        yield books, served, account, store, sim
    finally:
        served.close()
        books.close()


def test_refused_credentials_show_needs_reconnect_and_pulls_stop(refused: Any) -> None:
    """The channel refuses the credentials and the refresh token: the pull fails
    once with an error that says to reconnect, having asked the channel a
    handful of times, the store is NEEDS_RECONNECT in GetStore and GetStatus,
    the scheduler queues nothing for it, and a manual Pull is refused
    FAILED_PRECONDITION instead of failing again at the channel."""
    books, served, account, store, sim = refused
    before = books.handlers["etsy"].requests
    assert books.run_pulls() == ["failed"]
    asked = books.handlers["etsy"].requests - before
    assert asked <= 3, f"{asked} requests to a channel that refuses the credentials"
    got = served.integrations.GetStore(integrations_pb2.GetStoreRequest(store_id=store), timeout=5)
    assert got.state == resources_pb2.STORE_STATE_NEEDS_RECONNECT
    status = served.status.GetStatus(status_pb2.GetStatusRequest(account_id=account), timeout=5)
    (mine,) = [s for s in status.stores if s.store_id == store]
    assert mine.state == resources_pb2.STORE_STATE_NEEDS_RECONNECT and "reconnect" in mine.last_error
    assert_pulls_stopped(books, "etsy", store)
    today = books.clock.now().date()
    with pytest.raises(grpc.RpcError) as info:
        served.pulls.Pull(pulls_pb2.PullRequest(store_id=store, start_date=(today - timedelta(days=3)).isoformat(),
                                                end_date=today.isoformat()), timeout=5)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details().startswith("store_id:") and "reconnect" in info.value.details()
    assert books.run_pulls() == [] and books.handlers["etsy"].requests == before + asked
    trust_figures.add("tokens F6 (refused credentials)", pulls_run=1, requests_to_a_refusing_channel=asked)


def test_connect_with_new_credentials_repairs_the_store_in_place(refused: Any) -> None:
    """Connect of the same shop with the maker's new credentials: the same store
    id, ACTIVE again, no second initial pull, and the next pull succeeds."""
    books, served, account, store, sim = refused
    books.run_pulls()
    pulls_before = len(books.pulls_of(store))
    fresh = sign_in_again(sim)
    got = served.integrations.Connect(integrations_pb2.ConnectRequest(account_id=account, channel="etsy",
                                                                      credentials=fresh), timeout=10)
    assert got.id == store and got.state == resources_pb2.STORE_STATE_ACTIVE
    assert len(books.pulls_of(store)) == pulls_before, "a reconnect queues no second initial pull"
    books.automatic_pull(store)
    assert books.run_pulls() == ["succeeded"]
    compare_books(books, account, sim)


def test_reconnect_keeps_the_store_its_books_and_history(refused: Any) -> None:
    """The store keeps its id, books and pull history, takes the new
    credentials, is ACTIVE, and pulls succeed again."""
    books, served, account, store, sim = refused
    books.run_pulls()
    orders_before = len(books.orders(account))
    pulls_before = len(books.pulls_of(store))
    repair(books, account, "etsy", sim)
    assert books.run_pulls() == ["succeeded"]
    assert store_state(books, store) == "active"
    assert len(books.orders(account)) == orders_before and len(books.pulls_of(store)) == pulls_before + 1
    compare_books(books, account, sim)
