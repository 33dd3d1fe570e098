"""display_path names paths in messages and reports: relative to the working directory when
inside it (lexically, as pathlib's relative_to decides), as given otherwise. source_key names an
inventory file relative to its environment, lexically too."""

from __future__ import annotations

from pathlib import Path

from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from govcloud.model.loader import display_path, source_key

PART = st.sampled_from(["a", "b", "ab", "..", ".", "政务", "x y"])
PATH = st.builds(lambda absolute, parts: ("/" if absolute else "") + "/".join(parts), st.booleans(), st.lists(PART, max_size=4))


def as_pathlib_says(path: Path, base: Path) -> str:
    absolute = path if path.is_absolute() else base / path
    return absolute.relative_to(base).as_posix() if absolute.is_relative_to(base) else str(path)


@settings(max_examples=examples(300), deadline=None)
@given(PATH, st.lists(PART.filter(lambda p: p not in (".", "..")), max_size=3))
def test_display_path_agrees_with_pathlib(path, base_parts):
    base = Path("/" + "/".join(base_parts))
    assert display_path(Path(path), base) == as_pathlib_says(Path(path), base)


def test_display_path_cases():
    assert display_path(Path("/work/p/build/x.json"), Path("/work/p")) == "build/x.json"
    assert display_path(Path("/work/px/y"), Path("/work/p")) == "/work/px/y"  # a sibling with a longer name
    assert display_path(Path("/work/p"), Path("/work/p")) == "."
    assert display_path(Path("/etc/hosts"), Path("/")) == "etc/hosts"
    assert display_path(Path("../up"), Path("/work/p")) == "../up"


@settings(max_examples=examples(300), deadline=None)
@given(PATH, PATH.filter(lambda p: ".." not in p.split("/")))
def test_source_key_agrees_with_pathlib(path, root):
    path, root = Path(path), Path(root)
    expected = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    assert source_key(root, path) == expected


def test_source_key_cases():
    assert source_key(Path("/inv/province"), Path("/inv/province/tenants/t-1.yaml")) == "tenants/t-1.yaml"
    assert source_key(Path("inv/p"), Path("inv/p/platform.yaml")) == "platform.yaml"
    assert source_key(Path("inv/p"), Path("inv/px/platform.yaml")) == "inv/px/platform.yaml"  # a sibling with a longer name
    assert source_key(Path("."), Path("tenants/t-1.yaml")) == "tenants/t-1.yaml"
