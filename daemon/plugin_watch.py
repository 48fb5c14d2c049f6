"""Reloads plugin files named in ``[plugins] paths`` when they change
(watchfiles), for plugin developers: edit the file, the daemon picks it up.
A broken edit is refused and logged; the channels loaded before stay."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import structlog
import watchfiles

from makersync.plugins.manager import ChannelRegistry

log = structlog.get_logger("makersync.plugins")


class PluginWatcher:
    """A thread watching plugin files; ``on_reload`` runs after a good reload."""

    def __init__(self, registry: ChannelRegistry, paths: Sequence[Path],
                 on_reload: Callable[[list[str]], None] = lambda _names: None) -> None:
        self.registry = registry
        self.paths = [Path(p).resolve() for p in paths]
        self.on_reload = on_reload
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="plugin-watch", daemon=True)

    def start(self) -> PluginWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def reload(self, changed: Sequence[Path]) -> bool:
        """Reload ``changed`` plugin files; False (logged) when the edit is refused."""
        try:
            names = self.registry.reload_paths([str(p) for p in changed])
        except Exception as exc:  # a plugin reload is a boundary: keep the daemon and the old plugin
            log.error("plugin reload refused; the previous version stays", files=[str(p) for p in changed],
                      error=str(exc))
            return False
        log.info("plugins reloaded", files=[str(p) for p in changed], channels=names)
        self.on_reload(names)
        return True

    def _run(self) -> None:
        folders = sorted({str(p.parent) for p in self.paths})
        wanted = {str(p) for p in self.paths}
        for changes in watchfiles.watch(*folders, stop_event=self._stop, debounce=200, rust_timeout=500,
                                        watch_filter=lambda _c, path: str(Path(path).resolve()) in wanted):
            changed = sorted({Path(path).resolve() for _change, path in changes})
            if changed:
                self.reload(changed)
