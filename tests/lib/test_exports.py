"""socklab's public surface: an explicit __all__, lazy imports, and every exported name real."""
import importlib
import pkgutil
import subprocess
import sys
import types

import pytest

import socklab


def test_all_is_explicit_and_sorted():
    """Is socklab.__all__ an explicit, sorted list of module names without duplicates?"""
    assert isinstance(socklab.__all__, list)
    assert socklab.__all__ == sorted(set(socklab.__all__))


def test_every_module_is_public_or_a_tool():
    """Is each module in the package either in __all__ or one of the command-line tools (nothing forgotten)?"""
    found = {m.name for m in pkgutil.iter_modules(socklab.__path__) if not m.name.startswith("_")}
    assert found == set(socklab.__all__) | set(socklab._TOOLS)


@pytest.mark.parametrize("name", socklab.__all__)
def test_exported_members(name):
    """Does `socklab.<name>` load the module, and does every name in that module's __all__ exist?"""
    module = getattr(socklab, name)
    assert isinstance(module, types.ModuleType) and module is importlib.import_module(f"socklab.{name}")
    for member in getattr(module, "__all__", []):
        assert hasattr(module, member), f"socklab.{name}.__all__ lists {member!r}, which does not exist"


def test_import_socklab_loads_no_submodule():
    """Is `import socklab` instant: no submodule (and no scapy, matplotlib, ipywidgets) loaded yet?"""
    code = ("import sys, socklab; print(sorted(m for m in sys.modules if m.startswith('socklab.') "
            "or m.split('.')[0] in ('scapy', 'matplotlib', 'ipywidgets')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_lists_the_modules():
    """Does a typo like socklab.server say which modules exist?"""
    with pytest.raises(AttributeError, match="public modules: .*clients, env"):
        socklab.server  # noqa: B018
