"""The instructor lab's contents manager: jupytext's, opening the MyST sources as notebooks, plus two rules.

1. A source opens with this Python's ``language_info`` already in its metadata, so JupyterLab has
   nothing to add when the kernel starts and the notebook does not show as unsaved the moment it
   opens. jupytext never writes ``language_info`` into the ``.md`` (its metadata filter keeps only
   ``kernelspec`` and ``jupytext``), so the text source stays free of a Python version.
2. Saving never creates a pair: a ``jupytext.formats`` entry (from the Jupytext menu, or a notebook
   metadata edit) is dropped before jupytext sees it. A text twin of a notebook under
   ``notebooks/`` or ``grader/`` is how jupytext#157 re-inserted answers into students' copies;
   ``socklab release`` builds every ``.ipynb`` itself.

``make lab-instructor`` selects it with ``--ServerApp.contents_manager_class``; jupytext's server
extension sees a jupytext manager already in place and leaves it alone.
"""
from __future__ import annotations

from jupytext.async_contentsmanager import AsyncTextFileContentsManager

from socklab.workspace import language_info

TEXT_SOURCES = (".md",)


class InstructorContents(AsyncTextFileContentsManager):
    """jupytext's contents manager for ``solutions/``: sources open clean, saves never pair."""

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if content and model.get("type") == "notebook" and str(path).endswith(TEXT_SOURCES):
            model["content"].setdefault("metadata", {}).setdefault("language_info", language_info())
        return model

    async def save(self, model, path=""):
        if model.get("type") == "notebook" and model.get("content") is not None:
            meta = model["content"].get("metadata", {})
            if isinstance(meta.get("jupytext"), dict):
                dropped = meta["jupytext"].pop("formats", None)
                if dropped:
                    self.log.warning("socklab: not pairing %s with %s (socklab release builds the notebooks)",
                                     path, dropped)
        return await super().save(model, path)
