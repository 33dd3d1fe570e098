"""Load a page in headless Chromium (Debian's chromium) and read its tables after its scripts ran.

Shared by the tests of the HTML reports; pytest puts ``tests/`` on the import path (its
conftest lives there), so any test imports it as ``headless_chromium``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import pytest

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


class Tables(HTMLParser):
    """Every table with an id: its rows (cells as text, and whether the row is hidden); plus element texts by id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict]] = {}
        self.texts: dict[str, str] = {}
        self._table: str | None = None
        self._row: dict | None = None
        self._cell: list[str] | None = None
        self._open: list[tuple[str, str]] = []  # (tag, id) of elements with an id being read

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id"):
            self._table = attributes["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = {"hidden": "hidden" in attributes, "cells": [], "header": False}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._row["header"] = self._row["header"] or tag == "th"
        if attributes.get("id") and tag in ("span", "p", "h2", "h1"):
            self._open.append((tag, attributes["id"]))
            self.texts[attributes["id"]] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        for _, element in self._open:
            self.texts[element] += data

    def rows(self, table: str) -> list[list[str]]:
        return [r["cells"] for r in self.tables[table] if not r["header"]]

    def row(self, table: str, first: str) -> list[str]:
        [found] = [r for r in self.rows(table) if r and r[0].startswith(first)]
        return found


def chromium_dom(url: str) -> Tables:
    """The DOM after the page's script ran, as headless Chromium dumps it."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (scripts/debian-packages.txt lists it)")
    with tempfile.TemporaryDirectory(prefix="govcloud-chromium-") as profile:
        done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                               "--dump-dom", url], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
    parsed = Tables()
    parsed.feed(done.stdout)
    return parsed
