"""Finding and loading channel plugins.

Plugins come from the entry-point group ``makersync.channels`` (the built-in
channels register there too, so a third-party channel installs exactly like
a built-in one) and from plugin files or modules named in the config. After
loading, ``check_pending()`` makes a misspelt hook fail at start-up.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .channel import Channel

ENTRY_POINT_GROUP = "makersync.channels"


class PluginError(Exception):
    """A plugin could not be loaded or registered; the message names it."""


class ChannelRegistry:
    """The loaded channels by name, and the pluggy manager for events."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.channels: dict[str, type[Channel]] = {}
        self.sources: dict[str, str] = {}
        self._path_plugins: dict[str, object] = {}

    # -- loading -----------------------------------------------------------

    def load(
        self,
        *,
        entry_points: bool = True,
        paths: Iterable[str | Path] = (),
        modules: Iterable[str] = (),
        blocked: Iterable[str] = (),
    ) -> ChannelRegistry:
        """Load plugins from entry points, module names and file paths,
        skipping ``blocked`` plugin or channel names, then register channels."""
        blocked_set = set(blocked)
        for name in blocked_set:
            self.pm.set_blocked(name)
        if entry_points:
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                if ep.name in blocked_set:
                    continue
                try:
                    plugin = ep.load()
                except Exception as exc:  # a broken plugin must name itself
                    raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
                self._register_plugin(plugin, ep.name)
        for module_name in modules:
            if module_name in blocked_set:
                continue
            try:
                plugin = importlib.import_module(module_name)
            except Exception as exc:
                raise PluginError(f"plugin module {module_name!r} failed to import: {exc}") from exc
            self._register_plugin(plugin, module_name)
        for path in paths:
            self.load_path(path, blocked_set)
        self._check_pending()
        self._collect_channels(blocked_set)
        return self

    def load_path(self, path: str | Path, blocked: set[str] | None = None) -> None:
        """Load (or reload) a plugin from a Python file. Its plugin name is
        ``makersync_plugin_<stem>``. If the file fails to import or register,
        the version loaded before stays registered."""
        file = Path(path).expanduser().resolve()
        name = f"makersync_plugin_{file.stem}"
        if blocked and (file.stem in blocked or name in blocked):
            return
        old = self._path_plugins.get(str(file))
        taken = self.pm.get_plugin(name)
        if taken is not None and taken is not old:
            raise PluginError(
                f"plugin file {file}: the plugin name {name!r} is already taken by "
                f"{getattr(taken, '__file__', taken)!r}; rename one of the files"
            )
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise PluginError(f"plugin file {file} cannot be loaded")
        module = importlib.util.module_from_spec(spec)
        previous_module = sys.modules.get(name)
        try:
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except Exception as exc:
            _restore_module(name, previous_module)
            raise PluginError(f"plugin file {file} failed to import: {exc}") from exc
        if old is not None and self.pm.is_registered(old):
            self.pm.unregister(old)
        try:
            self._register_plugin(module, name)
        except PluginError:
            _restore_module(name, previous_module)
            if old is not None:
                self.pm.register(old, name=name)
            raise
        self._path_plugins[str(file)] = module

    def reload_paths(self, paths: Iterable[str | Path]) -> list[str]:
        """Reload the given plugin files and re-collect channels. Returns the
        channel names now loaded. If reloading fails (import error, misspelt
        hook, clashing channel name) the error is raised and the plugins and
        channels loaded before stay in force."""
        saved = (dict(self.channels), dict(self.sources))
        saved_plugins = dict(self._path_plugins)
        try:
            for path in paths:
                self.load_path(path)
            self._check_pending()
            self.channels.clear()
            self.sources.clear()
            self._collect_channels(set())
        except Exception:
            self._restore_path_plugins(saved_plugins)
            self.channels, self.sources = saved
            raise
        return sorted(self.channels)

    def _restore_path_plugins(self, saved: dict[str, object]) -> None:
        for file, module in list(self._path_plugins.items()):
            if saved.get(file) is module:
                continue
            if self.pm.is_registered(module):
                self.pm.unregister(module)
            old = saved.get(file)
            if old is not None:
                name = f"makersync_plugin_{Path(file).stem}"
                self.pm.register(old, name=name)
                sys.modules[name] = old  # type: ignore[assignment]
                self._path_plugins[file] = old
            else:
                del self._path_plugins[file]

    def _check_pending(self) -> None:
        """A hook implementation that matches no hook (a misspelt name) is a load error."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {exc.plugin!r}: {exc}") from exc

    def _register_plugin(self, plugin: object, name: str) -> None:
        if self.pm.is_registered(plugin):
            return
        taken = self.pm.get_plugin(name)
        if taken is not None:
            raise PluginError(f"two plugins named {name!r}: {taken!r} and {plugin!r}")
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            raise PluginError(f"plugin {name!r} could not be registered: {exc}") from exc

    def _collect_channels(self, blocked: set[str]) -> None:
        for impl in self.pm.hook.makersync_register_channels.get_hookimpls():
            plugin_name = impl.plugin_name

            def register(cls: type, _source: str = plugin_name) -> None:
                self._add_channel(cls, _source, blocked)

            try:
                impl.function(register=register)
            except PluginError:
                raise
            except Exception as exc:  # a broken plugin must name itself
                raise PluginError(f"plugin {plugin_name!r} failed to register its channels: {exc}") from exc

    def _add_channel(self, cls: type, source: str, blocked: set[str]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Channel)):
            raise PluginError(f"plugin {source!r} registered {cls!r}, which is not a Channel subclass")
        name = getattr(cls, "name", "")
        if not name or not name.replace("_", "").isalnum() or not name.islower():
            raise PluginError(f"plugin {source!r}: channel name {name!r} must be a short snake token")
        if name in blocked:
            return
        if name in self.channels and self.channels[name] is not cls:
            raise PluginError(
                f"two channels named {name!r}: from plugin {self.sources[name]!r} and plugin {source!r}"
            )
        self.channels[name] = cls
        self.sources[name] = source

    # -- using -------------------------------------------------------------

    def get(self, name: str) -> type[Channel]:
        try:
            return self.channels[name]
        except KeyError:
            raise KeyError(name) from None

    def notify(self, hook: str, **kwargs: Any) -> list[Exception]:
        """Call an event hook; exceptions from plugins are returned, not raised."""
        errors: list[Exception] = []
        caller = getattr(self.pm.hook, hook)
        for impl in caller.get_hookimpls():
            try:
                # pluggy lets an implementation take a subset of the hook's arguments
                impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception as exc:  # one plugin's bug never fails a pull
                errors.append(exc)
        return errors


def load_channels(
    *,
    entry_points: bool = True,
    paths: Iterable[str | Path] = (),
    modules: Iterable[str] = (),
    blocked: Iterable[str] = (),
) -> ChannelRegistry:
    """Build a :class:`ChannelRegistry` from the usual places."""
    return ChannelRegistry().load(entry_points=entry_points, paths=paths, modules=modules, blocked=blocked)


def _restore_module(name: str, module: ModuleType | None) -> None:
    if module is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = module


def settings_for(config: Mapping[str, Any], channel: str) -> Mapping[str, Any]:
    """The ``[channels.<name>]`` section of a config mapping."""
    section = config.get(channel, {})
    return section if isinstance(section, Mapping) else {}


__all__ = ["ChannelRegistry", "PluginError", "load_channels", "settings_for", "ModuleType"]
