"""ARCHITECTURE (Plugins): a plugin file named in the config is reloaded when
it changes; a broken edit is refused and the previous channel stays."""

from __future__ import annotations

import time
from pathlib import Path

from makersync.daemon.plugin_watch import PluginWatcher
from makersync.plugins.manager import ChannelRegistry

PLUGIN = '''
from makersync.plugins import Channel, hookimpl


class HandmadeChannel(Channel):
    name = "handmade"
    display_name = "{display}"

    def connect(self): ...
    def iter_orders(self, window, cursor=None): return iter(())
    def iter_listings(self, cursor=None): return iter(())
    def iter_fees(self, window, cursor=None): return iter(())


@hookimpl
def makersync_register_channels(register):
    register(HandmadeChannel)
'''


def _wait(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_plugin_file_reloaded_when_it_changes_and_bad_edit_refused(tmp_path: Path) -> None:
    path = tmp_path / "handmade.py"
    path.write_text(PLUGIN.format(display="Handmade Market"))
    registry = ChannelRegistry().load(entry_points=False, paths=[str(path)])
    reloads: list[list[str]] = []
    watcher = PluginWatcher(registry, [path], on_reload=reloads.append).start()
    try:
        time.sleep(0.5)
        path.write_text(PLUGIN.format(display="Handmade Market v2"))
        assert _wait(lambda: registry.get("handmade").display_name == "Handmade Market v2")
        path.write_text("this is not python (")
        time.sleep(1.5)
        assert registry.get("handmade").display_name == "Handmade Market v2"
    finally:
        watcher.stop()
    assert reloads and reloads[0] == ["handmade"]
