"""PullService over a real store: GetPull, CancelPull and the WatchPull stream."""

from __future__ import annotations

import threading

import grpc
import pytest
from api_fixtures import Running, code_of

from makersync.daemon.domain import integrations as dom_integrations
from makersync.v1 import pulls_pb2
from makersync.v1 import resources_pb2 as pb


def make_store(api: Running) -> tuple[str, str]:
    """An account with one (recorded) store; returns (store_id, its queued initial pull id)."""
    account = api.create_account()
    app = api.app
    store = dom_integrations.record_store(
        app.db, app.clock, app.plans, app.box, account.id, "etsy", {"etsy"},
        external_shop_id="shop-1", shop_name="Ada's Shop", credentials={"access_token": "t0ken-value"},
    )
    return store.id, store.initial_pull_id


def test_watch_pull_streams_until_the_pull_ends(api):
    _, pull_id = make_store(api)
    seen: list[pb.PullJob] = []
    first = threading.Event()

    def watch() -> None:
        for job in api.pulls.WatchPull(pulls_pb2.WatchPullRequest(pull_id=pull_id), timeout=20):
            seen.append(job)
            first.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert first.wait(5)
    api.pulls.CancelPull(pulls_pb2.CancelPullRequest(pull_id=pull_id), timeout=5)
    watcher.join(10)
    assert not watcher.is_alive(), "the stream must end once the pull is final"
    assert seen[0].state == pb.PULL_STATE_QUEUED
    assert seen[-1].state == pb.PULL_STATE_CANCELLED


def test_watch_pull_of_an_ended_pull_sends_one_snapshot(api):
    _, pull_id = make_store(api)
    api.pulls.CancelPull(pulls_pb2.CancelPullRequest(pull_id=pull_id), timeout=5)
    jobs = list(api.pulls.WatchPull(pulls_pb2.WatchPullRequest(pull_id=pull_id), timeout=5))
    assert [j.state for j in jobs] == [pb.PULL_STATE_CANCELLED]


def test_watch_pull_of_an_unknown_pull_is_not_found(api):
    code, _ = code_of(lambda: list(api.pulls.WatchPull(pulls_pb2.WatchPullRequest(pull_id="404"), timeout=5)))
    assert code == grpc.StatusCode.NOT_FOUND


def test_caller_cancelling_the_stream_leaves_the_pull_alone(api):
    _, pull_id = make_store(api)
    stream = api.pulls.WatchPull(pulls_pb2.WatchPullRequest(pull_id=pull_id), timeout=20)
    assert next(stream).state == pb.PULL_STATE_QUEUED
    stream.cancel()
    with pytest.raises(grpc.RpcError) as info:
        next(stream)
    assert info.value.code() == grpc.StatusCode.CANCELLED
    job = api.pulls.GetPull(pulls_pb2.GetPullRequest(pull_id=pull_id), timeout=5)
    assert job.state == pb.PULL_STATE_QUEUED


def test_list_pulls_shows_the_initial_pull(api):
    store_id, pull_id = make_store(api)
    reply = api.pulls.ListPulls(pulls_pb2.ListPullsRequest(store_id=store_id), timeout=5)
    assert [(p.id, p.kind) for p in reply.pulls] == [(pull_id, pb.PULL_KIND_INITIAL)]


def test_manual_pull_before_the_floor_is_a_failed_precondition(api):
    store_id, _ = make_store(api)
    code, details = code_of(lambda: api.pulls.Pull(
        pulls_pb2.PullRequest(store_id=store_id, start_date="2020-01-01", end_date="2020-01-10"), timeout=5))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert details.startswith("start_date:") and "floor" in details


def test_watch_pull_ends_unavailable_with_the_latest_snapshot_when_the_daemon_stops(api):
    _, pull_id = make_store(api)
    stream = api.pulls.WatchPull(pulls_pb2.WatchPullRequest(pull_id=pull_id), timeout=20)
    assert next(stream).state == pb.PULL_STATE_QUEUED
    api.server.end_streams()
    with pytest.raises(grpc.RpcError) as info:
        next(stream)  # the pull has not changed: no further snapshot, the stream ends
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in (info.value.details() or "")
    job = api.pulls.GetPull(pulls_pb2.GetPullRequest(pull_id=pull_id), timeout=5)
    assert job.state == pb.PULL_STATE_QUEUED  # the pull is left alone
