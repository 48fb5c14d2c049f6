"""Finding and loading channel plugins: entry points, modules, plugin files
with reload, blocking, and every load error naming the plugin."""

from __future__ import annotations

import importlib.metadata
import textwrap
import threading
from pathlib import Path

import pytest

from makersync.plugins import manager
from makersync.plugins.manager import ENTRY_POINT_GROUP, ChannelRegistry, PluginError

BUILT_IN = ("etsy", "shopify", "amazon")
EXAMPLE = "makersync.plugins.example"


def plugin_source(channel: str = "acme", display: str = "Acme Crafts", hook: str = "makersync_register_channels",
                  arg: str = "register", extra: str = "") -> str:
    return textwrap.dedent(f'''
        from makersync.plugins import Channel, hookimpl

        class AcmeChannel(Channel):
            name = "{channel}"
            display_name = "{display}"

            def connect(self): raise NotImplementedError
            def iter_orders(self, window, cursor=None): return iter(())
            def iter_listings(self, cursor=None): return iter(())
            def iter_fees(self, window, cursor=None): return iter(())

        @hookimpl
        def {hook}({arg}):
            {arg}(AcmeChannel)
        {extra}
        ''')


def write_plugin(folder: Path, stem: str = "acme_plugin", **kw: str) -> Path:
    path = folder / f"{stem}.py"
    path.write_text(plugin_source(**kw))
    return path


# -- entry points and modules ------------------------------------------------------------

def test_built_in_channels_declared_as_entry_points() -> None:
    """The built-ins install exactly like a third-party channel (ARCHITECTURE: Plugins)."""
    names = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    for name in BUILT_IN:
        assert names.get(name) == f"makersync.plugins.{name}"


@pytest.mark.parametrize("name", BUILT_IN)
def test_entry_point_loading_finds_built_in_channel(name: str) -> None:
    others = set(BUILT_IN) - {name}  # another channel's work in progress must not fail this one
    registry = ChannelRegistry().load(blocked=others)
    if name not in registry.channels:
        pytest.skip(f"the {name} plugin registers no channel yet")
    assert registry.get(name).name == name
    assert registry.sources[name] == name


def test_module_plugin_registers_its_channel() -> None:
    registry = ChannelRegistry().load(entry_points=False, modules=[EXAMPLE])
    assert registry.get("example").display_name == "Example Market"
    assert registry.sources["example"] == EXAMPLE


def test_unknown_channel_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        ChannelRegistry().load(entry_points=False).get("nope")


# -- plugin files and reload ----------------------------------------------------------------

def test_plugin_file_loads_and_reloads_when_changed(tmp_path: Path) -> None:
    path = write_plugin(tmp_path)
    registry = ChannelRegistry().load(entry_points=False, paths=[str(path)])
    assert registry.get("acme").display_name == "Acme Crafts"
    path.write_text(plugin_source(display="Acme Crafts v2"))
    assert registry.reload_paths([path]) == ["acme"]
    assert registry.get("acme").display_name == "Acme Crafts v2"
    assert len(registry.pm.hook.makersync_register_channels.get_hookimpls()) == 1


def test_plugin_file_reload_renaming_channel_drops_old_name(tmp_path: Path) -> None:
    path = write_plugin(tmp_path)
    registry = ChannelRegistry().load(entry_points=False, paths=[path], modules=[EXAMPLE])
    path.write_text(plugin_source(channel="acme_two"))
    assert registry.reload_paths([path]) == ["acme_two", "example"]


@pytest.mark.parametrize("broken", [
    "raise RuntimeError('half-saved file')",
    "def makersync_register_channel(register): pass\n"
    "from makersync.plugins import hookimpl\nmakersync_register_channel = hookimpl(makersync_register_channel)",
])
def test_failed_reload_keeps_the_old_version_in_force(tmp_path: Path, broken: str) -> None:
    """A half-saved or misspelt file is refused; the loaded version keeps working,
    and a later good edit reloads as usual."""
    path = write_plugin(tmp_path)
    registry = ChannelRegistry().load(entry_points=False, paths=[path])
    path.write_text(plugin_source(display="Acme v2") + "\n" + broken + "\n")
    with pytest.raises(PluginError, match="acme_plugin"):
        registry.reload_paths([path])
    assert registry.get("acme").display_name == "Acme Crafts"
    registry.notify("makersync_pull_finished", pull={})  # the manager still works
    impls = registry.pm.hook.makersync_register_channels.get_hookimpls()
    assert [i.plugin_name for i in impls] == ["makersync_plugin_acme_plugin"]
    path.write_text(plugin_source(display="Acme v3"))
    registry.reload_paths([path])
    assert registry.get("acme").display_name == "Acme v3"


def test_reload_clashing_with_another_channel_keeps_old_version(tmp_path: Path) -> None:
    path = write_plugin(tmp_path)
    registry = ChannelRegistry().load(entry_points=False, paths=[path], modules=[EXAMPLE])
    path.write_text(plugin_source(channel="example"))
    with pytest.raises(PluginError, match="two channels named 'example'"):
        registry.reload_paths([path])
    assert registry.get("acme").display_name == "Acme Crafts"
    assert registry.reload_paths([]) == ["acme", "example"]


def test_watchfiles_sees_a_plugin_edit_and_reload_applies_it(tmp_path: Path) -> None:
    """The daemon's recipe (README): watch the plugin files, reload_paths on a change."""
    watchfiles = pytest.importorskip("watchfiles")
    path = write_plugin(tmp_path)
    registry = ChannelRegistry().load(entry_points=False, paths=[path])
    stop = threading.Event()
    seen: list[set[str]] = []
    ready = threading.Event()

    def watch() -> None:
        for changes in watchfiles.watch(tmp_path, stop_event=stop, debounce=50, step=20,
                                        rust_timeout=200, yield_on_timeout=True):
            ready.set()
            changed = {p for _, p in changes if p.endswith(".py")}
            if changed:
                seen.append(changed)
                registry.reload_paths(sorted(changed))
                stop.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    assert ready.wait(5)
    path.write_text(plugin_source(display="Acme live"))
    thread.join(10)
    stop.set()
    assert seen and str(path) in seen[0]
    assert registry.get("acme").display_name == "Acme live"


# -- blocking --------------------------------------------------------------------------------

def test_blocked_plugin_module_is_skipped() -> None:
    registry = ChannelRegistry().load(entry_points=False, modules=[EXAMPLE], blocked=[EXAMPLE])
    assert "example" not in registry.channels


def test_blocked_channel_name_is_skipped() -> None:
    registry = ChannelRegistry().load(entry_points=False, modules=[EXAMPLE], blocked=["example"])
    assert registry.channels == {}


def test_blocked_plugin_file_is_not_even_imported(tmp_path: Path) -> None:
    path = tmp_path / "acme_plugin.py"
    path.write_text("raise RuntimeError('must not run')\n")
    registry = ChannelRegistry().load(entry_points=False, paths=[path], blocked=["acme_plugin"])
    assert registry.channels == {}


def test_blocked_entry_point_is_not_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = importlib.metadata.EntryPoint("broken", "makersync_no_such_module", ENTRY_POINT_GROUP)
    monkeypatch.setattr(manager.importlib.metadata, "entry_points", lambda group: [broken])
    assert ChannelRegistry().load(blocked=["broken"]).channels == {}


# -- errors name the plugin -------------------------------------------------------------------

def test_entry_point_import_error_names_the_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = importlib.metadata.EntryPoint("brokenshop", "makersync_no_such_module", ENTRY_POINT_GROUP)
    monkeypatch.setattr(manager.importlib.metadata, "entry_points", lambda group: [broken])
    with pytest.raises(PluginError, match="'brokenshop'.*makersync_no_such_module"):
        ChannelRegistry().load()


def test_module_import_error_names_the_plugin() -> None:
    with pytest.raises(PluginError, match="makersync_no_such_module"):
        ChannelRegistry().load(entry_points=False, modules=["makersync_no_such_module"])


def test_plugin_file_import_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "typo_plugin.py"
    path.write_text("def broken(:\n")
    with pytest.raises(PluginError, match="typo_plugin.py"):
        ChannelRegistry().load(entry_points=False, paths=[path])


def test_two_channels_with_one_name_is_an_error_naming_both(tmp_path: Path) -> None:
    first = write_plugin(tmp_path, "first_shop")
    second = write_plugin(tmp_path, "second_shop")
    with pytest.raises(PluginError) as info:
        ChannelRegistry().load(entry_points=False, paths=[first, second])
    message = str(info.value)
    assert "two channels named 'acme'" in message
    assert "makersync_plugin_first_shop" in message and "makersync_plugin_second_shop" in message


def test_two_plugin_files_with_one_stem_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_plugin(tmp_path / "a", "shop")
    second = write_plugin(tmp_path / "b", "shop", channel="other")
    with pytest.raises(PluginError, match="already taken"):
        ChannelRegistry().load(entry_points=False, paths=[first, second])


def test_misspelt_hook_fails_at_load(tmp_path: Path) -> None:
    """check_pending: a hook implementation matching no hook is a start-up error."""
    path = write_plugin(tmp_path, "misspelt", hook="makersync_register_channel")
    with pytest.raises(PluginError, match="makersync_register_channel"):
        ChannelRegistry().load(entry_points=False, paths=[path])


def test_hook_with_wrong_argument_fails_at_load(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "wrongarg", arg="add")
    with pytest.raises(PluginError, match="makersync_plugin_wrongarg"):
        ChannelRegistry().load(entry_points=False, paths=[path])


def test_registering_a_non_channel_names_the_plugin(tmp_path: Path) -> None:
    path = tmp_path / "notachannel.py"
    path.write_text("from makersync.plugins import hookimpl\n"
                    "@hookimpl\ndef makersync_register_channels(register):\n    register(dict)\n")
    with pytest.raises(PluginError, match="makersync_plugin_notachannel.*not a Channel"):
        ChannelRegistry().load(entry_points=False, paths=[path])


def test_register_hook_crash_names_the_plugin(tmp_path: Path) -> None:
    path = tmp_path / "crashy.py"
    path.write_text("from makersync.plugins import hookimpl\n"
                    "@hookimpl\ndef makersync_register_channels(register):\n    raise KeyError('x')\n")
    with pytest.raises(PluginError, match="makersync_plugin_crashy"):
        ChannelRegistry().load(entry_points=False, paths=[path])


@pytest.mark.parametrize("bad_name", ["Acme", "acme-shop", ""])
def test_channel_name_must_be_a_snake_token(tmp_path: Path, bad_name: str) -> None:
    path = write_plugin(tmp_path, "badname", channel=bad_name)
    with pytest.raises(PluginError, match="short snake token"):
        ChannelRegistry().load(entry_points=False, paths=[path])


# -- event hooks ---------------------------------------------------------------------------------

EVENTS_PLUGIN = '''
from makersync.plugins import hookimpl
SEEN = []

@hookimpl
def makersync_pull_finished(pull):
    SEEN.append(("pull", pull["id"], pull["state"]))

@hookimpl
def makersync_order_changed(order):   # a subset of the hook's arguments is allowed
    SEEN.append(("order", order["external_id"]))
'''

BROKEN_EVENTS_PLUGIN = '''
from makersync.plugins import hookimpl

@hookimpl
def makersync_pull_finished(pull):
    raise RuntimeError("bug in a plugin")

@hookimpl
def makersync_order_changed(order, created):
    raise RuntimeError("another bug")
'''


def test_event_hooks_reach_plugins_and_their_errors_are_returned(tmp_path: Path) -> None:
    """makersync_pull_finished and makersync_order_changed reach every plugin; one
    plugin's exception is returned to be logged, never raised into the pull."""
    good = tmp_path / "events_good.py"
    good.write_text(EVENTS_PLUGIN)
    bad = tmp_path / "events_bad.py"
    bad.write_text(BROKEN_EVENTS_PLUGIN)
    registry = ChannelRegistry().load(entry_points=False, paths=[good, bad])
    pull = {"id": 7, "store_id": 1, "channel": "example", "kind": "automatic", "state": "succeeded",
            "counts": {}, "error": ""}
    errors = registry.notify("makersync_pull_finished", pull=pull)
    errors += registry.notify("makersync_order_changed",
                              order={"id": 1, "store_id": 1, "external_id": "9000123", "status": "paid",
                                     "total": "10.00"}, created=True)
    module = registry.pm.get_plugin("makersync_plugin_events_good")
    assert module.SEEN == [("pull", 7, "succeeded"), ("order", "9000123")]
    assert [str(e) for e in errors] == ["bug in a plugin", "another bug"]
