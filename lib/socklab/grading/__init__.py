"""Sandboxed, parallel grading on top of nbgrader: ``socklab grade`` and ``socklab check``."""
