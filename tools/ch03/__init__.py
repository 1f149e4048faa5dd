"""Content of the chapter-3 source notebooks (see tools/ch03_source.py)."""
