"""The pack digest certificates bind is derived from what the pack imports: a rule that starts
using a new helper module puts that module under the digest, and changing it refuses the
certificates issued before."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_policy_review import Workspace

from govcloud.policy import catalog

from policy_helpers import PACK

RULE = Path("policy/rules/security/gov_sec_010_flow_matrix.py")


@pytest.fixture
def package(tmp_path, monkeypatch) -> Path:
    """A copy of the govcloud package whose flow-matrix rule imports a new helper module."""
    root = tmp_path / "package" / "govcloud"
    shutil.copytree(catalog.PACKAGE_ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "netmath.py").write_text('"""A helper the rules share."""\n\nPREFIX = 24\n', encoding="utf-8")
    rule = root / RULE
    text = rule.read_text(encoding="utf-8")
    assert "from .... import labels\n" in text
    rule.write_text(text.replace("from .... import labels\n", "from .... import labels, netmath  # noqa: F401\n", 1), encoding="utf-8")
    monkeypatch.setattr(catalog, "PACKAGE_ROOT", root)
    return root


def test_the_digest_covers_every_module_the_pack_imports(package):
    names = {name for name, _ in catalog.pack_files(PACK)}
    assert {"pack/__main__.py", "pack/PulumiPolicy.yaml", "govcloud/netmath.py", "govcloud/labels.py", "govcloud/model/codes.py",
            "govcloud/policy/rule.py", "govcloud/policy/pack.py", f"govcloud/{RULE.as_posix()}"} <= names
    assert "govcloud/render/pipeline.py" not in names and "govcloud/cli/review.py" not in names  # not imported by the pack
    before = catalog.pack_digest(PACK)
    (package / "netmath.py").write_text('"""A helper the rules share."""\n\nPREFIX = 16\n', encoding="utf-8")
    assert catalog.pack_digest(PACK) != before
    (package / "render" / "pipeline.py").write_text("# nothing the pack runs\n", encoding="utf-8")
    after = catalog.pack_digest(PACK)
    (package / "render" / "pipeline.py").write_text("# still nothing the pack runs\n", encoding="utf-8")
    assert catalog.pack_digest(PACK) == after


def test_changing_a_helper_module_refuses_the_certificate(package, tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.key("sec-liwei")
    ws.issue()
    assert ws.gate()["pack"]["digest"] == catalog.pack_digest(PACK)
    (package / "netmath.py").write_text('"""A helper the rules share."""\n\nPREFIX = 16\n', encoding="utf-8")
    assert ws.refusals() == ["the policy pack changed since the review (digest)"]


def test_changing_the_pack_configuration_file_refuses_the_certificate(package, tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack, ignore=shutil.ignore_patterns("__pycache__"))
    ws = Workspace(tmp_path / "ws")
    ws.key("sec-liwei")
    ws.issue()
    digest = catalog.pack_digest(PACK)
    assert catalog.pack_digest(pack) == digest
    (pack / "PulumiPolicy.yaml").write_text((pack / "PulumiPolicy.yaml").read_text() + "# changed\n")
    assert catalog.pack_digest(pack) != digest
