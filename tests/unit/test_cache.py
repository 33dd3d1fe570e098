"""The inventory cache saves parsing only: results are identical, every check still runs,
lines are still right for cached documents, and a damaged cache is harmless."""

from __future__ import annotations

import json

import pytest

from govcloud.model import InputError, load_environment


def test_cached_load_equals_fresh_load(inventory, tmp_path) -> None:
    cache = tmp_path / "cache"
    fresh = load_environment("lab", inventory.root)
    first = load_environment("lab", inventory.root, cache_dir=cache)
    stored = json.loads((cache / "inventory-lab.json").read_text(encoding="utf-8"))
    assert len(stored["documents"]) == 1 + len(fresh.tenants)
    second = load_environment("lab", inventory.root, cache_dir=cache)
    for env in (first, second):
        assert env.tenants == fresh.tenants and env.platform == fresh.platform and env.sources == fresh.sources


def test_problems_in_cached_documents_name_the_right_line(inventory, tmp_path) -> None:
    cache = tmp_path / "cache"
    load_environment("lab", inventory.root, cache_dir=cache)
    # The health request is unchanged (served from the cache) but now over the cluster's capacity.
    inventory.edit("platform.yaml", lambda d: d["clusters"][0]["capacity"].update(cpu="19"))
    with pytest.raises(InputError) as caught:
        load_environment("lab", inventory.root, cache_dir=cache)
    [problem] = caught.value.problems
    text = inventory.path("tenants/t-430100-health.yaml").read_text(encoding="utf-8").splitlines()
    assert problem.field == "quotas.cpu" and text[problem.line - 1].startswith("quotas:")


def test_tampered_cache_cannot_skip_validation(inventory, tmp_path) -> None:
    cache = tmp_path / "cache"
    load_environment("lab", inventory.root, cache_dir=cache)
    path = cache / "inventory-lab.json"
    stored = json.loads(path.read_text(encoding="utf-8"))
    for data in stored["documents"].values():
        if isinstance(data, dict) and data.get("department", {}).get("slug") == "health":
            data["mlps_level"] = 9
    path.write_text(json.dumps(stored), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_environment("lab", inventory.root, cache_dir=cache)
    assert any(p.field == "mlps_level" and p.file.endswith("t-430100-health.yaml") for p in caught.value.problems)


@pytest.mark.parametrize("content", ["", "not json", '{"reader": "0", "documents": {}}', "[]"])
def test_damaged_cache_is_ignored_and_rewritten(inventory, tmp_path, content) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "inventory-lab.json").write_text(content)
    env = load_environment("lab", inventory.root, cache_dir=cache)
    assert len(env.tenants) == 8
    assert json.loads((cache / "inventory-lab.json").read_text())["reader"] == "1"
