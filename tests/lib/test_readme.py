"""The README's example is what a newcomer copies first: does it run as written?"""
import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_example_runs():
    """Does the README's library example run against real loopback servers and print their log?"""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "README.md lost its python example"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0], "README.md", "exec"), {"__name__": "readme_example"})
    text = out.getvalue()
    assert "accept" in text and "5 B in, 5 B out" in text
    assert "'connect'" in text


def test_readme_documents_the_commands():
    """Does the README name every command the brief promises?"""
    text = README.read_text()
    for command in ["make lab", "make test", "make release", "make bench", "make lab-instructor",
                    "socklab check", "socklab grade"]:
        assert command in text, command
