"""The evidence ledger: an append-only transparency log (RFC 9162 Merkle tree, signed tree heads).

Each entry records one piece of evidence: a tenant request, a check report, a review, a review
certificate, a waiver, a deploy or a diff. It points at the evidence file by path and digest
(sha256, plus sm3 in an SM3 ledger) and says who (actor), when (time), about what (subject:
env, stack, tenant) and what happened (summary). Every append signs a tree head with
``govcloud.signing`` (Ed25519 over a SHA-256 tree by default; an SM2 key gives SM2 signatures
over an SM3 tree). Auditors verify the whole log, or check one inclusion proof offline.

API for the commands that record evidence (``check``, ``review``, ``diff``, ``deploy`` with
``--ledger DIR``)::

    from govcloud.ledger import Ledger, LedgerError

    # the key from --ledger-key (a PEM path or "env:NAME"), else from $GOVCLOUD_LEDGER_KEY;
    # Ledger(ledger_dir, signing.load_private_key(...)) does the same with a key in hand
    with Ledger.for_appending(ledger_dir, ledger_key_option) as ledger:  # created on first append
        receipt = ledger.append(
            "certificate",                                   # one of KINDS
            {"env": "lab", "stack": "lab.t-430100-health", "tenant": "t-430100-health"},
            "build/review/lab/lab.t-430100-health.cert.json",  # evidence file (must exist)
            actor="zhang-wei",
            summary="review certificate for lab.t-430100-health: 0 blocking findings",
            details={"state_digest": "sha256:..."},          # optional, small, no floats
        )
    receipt.index, receipt.head.size, receipt.head.root      # where it landed, the signed head

``LedgerError`` (bad input: wrong key, missing evidence, malformed field) carries
``exit_code`` 2, ``LedgerIntegrityError`` (the ledger fails a check) 1. Appends from several
processes are serialised by a file lock; ``append_many`` records several entries with one
tree head.

Reading and auditing: ``Ledger(dir).head()``, ``.entries()``, ``.prove(index, size=None)``
(inclusion proof), ``.consistency(old_head)`` (consistency proof);
``audit.verify_ledger(dir, trusted_keys, since=saved_head)`` (the full check, naming the
entry at fault); ``audit.check_inclusion`` and ``audit.check_consistency`` (offline proofs).
The file format and its crash recovery are described in ``store``; the Merkle algorithms in
``merkle``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .audit import ProofFailed, Report, check_consistency, check_evidence_file, check_inclusion, verify_ledger
    from .kinds import KINDS
    from .records import SUBJECT_KEYS, LedgerError, LedgerIntegrityError, SignedCheckpoint, TreeHead, head_from_dict
    from .store import Ledger, Receipt, Record

# Each name from its module, imported when first asked for (PEP 562): the CLI reads KINDS for
# its help, and importing the rest would load the cryptography on every command.
_HOMES = {
    **dict.fromkeys(("ProofFailed", "Report", "check_consistency", "check_evidence_file", "check_inclusion", "verify_ledger"), "audit"),
    "KINDS": "kinds",
    **dict.fromkeys(("SUBJECT_KEYS", "LedgerError", "LedgerIntegrityError", "SignedCheckpoint", "TreeHead", "head_from_dict"), "records"),
    **dict.fromkeys(("Ledger", "Receipt", "Record"), "store"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)

__all__ = [
    "KINDS",
    "SUBJECT_KEYS",
    "Ledger",
    "LedgerError",
    "LedgerIntegrityError",
    "ProofFailed",
    "Receipt",
    "Record",
    "Report",
    "SignedCheckpoint",
    "TreeHead",
    "head_from_dict",
    "check_consistency",
    "check_evidence_file",
    "check_inclusion",
    "verify_ledger",
]
