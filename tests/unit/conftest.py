"""Fixtures: a private copy of the lab inventory that a test may break as it likes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest
import yaml

from govcloud.inventory_io import dump_document
from govcloud.model import InputError, load_environment

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "inventories" / "lab"


class Inventory:
    def __init__(self, root: Path):
        self.root = root  # the inventories directory
        self.env = root / "lab"

    def path(self, relative: str) -> Path:
        return self.env / relative

    def edit(self, relative: str, change: Callable[[dict], None]) -> None:
        path = self.path(relative)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        kind = "platform" if relative == "platform.yaml" else "waivers" if relative == "waivers.yaml" else "tenant"
        path.write_text(dump_document(data, kind, depth=3), encoding="utf-8")

    def write(self, relative: str, text: str) -> Path:
        path = self.path(relative)
        path.write_text(text, encoding="utf-8")
        return path

    def load(self):
        return load_environment("lab", self.root)

    def problems(self) -> list:
        with pytest.raises(InputError) as caught:
            self.load()
        return caught.value.problems

    def expect(self, file_suffix: str, field: str, fragment: str) -> None:
        found = self.problems()
        assert any(p.file.endswith(file_suffix) and p.field == field and fragment in p.message and p.line > 0 for p in found), (
            f"expected {file_suffix} {field}: ...{fragment}... in\n" + "\n".join(map(str, found))
        )


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    shutil.copytree(LAB, tmp_path / "inventories" / "lab")
    return Inventory(tmp_path / "inventories")
