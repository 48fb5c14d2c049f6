"""Every hook is documented and tested (datasette's tests/test_docs.py):
a docstring in hookspecs.py, a section in plugins/README.md, and a test
somewhere under tests/ that uses it by name."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from makersync.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "plugins" / "README.md"
TESTS = ROOT / "tests"
SPEC_MARK = f"{hookspecs.PROJECT}_spec"

HOOKS = sorted(name for name, fn in vars(hookspecs).items()
               if inspect.isfunction(fn) and hasattr(fn, SPEC_MARK))


def test_hookspecs_found() -> None:
    assert len(HOOKS) >= 3


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring_saying_what_it_returns(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc) > 60, f"{hook} needs a docstring: when it is called, what it gets, what it returns"
    assert "return" in doc.lower(), f"{hook}'s docstring must say what it returns"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_documented_in_readme(hook: str) -> None:
    headings = re.findall(r"^#+ .*$", README.read_text(), flags=re.MULTILINE)
    assert any(hook in h for h in headings), f"plugins/README.md needs a section headed `{hook}`"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_exercised_by_a_test(hook: str) -> None:
    this = Path(__file__).resolve()
    users = [p for p in TESTS.rglob("*.py") if p.resolve() != this and hook in p.read_text()]
    assert users, f"no test under tests/ uses {hook}"
