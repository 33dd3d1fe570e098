"""The one error the lab raises for conditions a user can fix (not root, missing feature)."""

from __future__ import annotations


class LabError(Exception):
    """A clear, single-line reason the lab cannot do what was asked; the CLI exits 2."""
