"""Docstrings are the students' documentation (Shift-Tab): does every `>>>` example in socklab run?"""
import doctest
import importlib
import pathlib

import pytest

LIB = pathlib.Path(__file__).resolve().parents[2] / "lib"
MODULES = sorted(
    ".".join(p.relative_to(LIB).with_suffix("").parts).removesuffix(".__init__")
    for p in (LIB / "socklab").rglob("*.py")
    if ">>> " in p.read_text(encoding="utf-8")
)


def test_there_are_examples_to_run():
    """Do the student-facing modules carry runnable examples at all?"""
    for name in ["socklab.servers", "socklab.clients", "socklab.ports", "socklab.trace", "socklab.packets"]:
        assert name in MODULES, name


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    """Does every example in this module's docstrings give the output it shows?"""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
