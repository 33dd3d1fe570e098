"""What the ledger records: each kind names the evidence file it points at.

A module of its own, free of the ledger's cryptography: the CLI names the kinds in its help."""

KINDS = {
    "tenant-request": "a department's tenant request file",
    "check": "a policy check report",
    "review": "a review of a rendered stack",
    "certificate": "a signed review certificate",
    "waiver": "a waivers file or one waiver decision",
    "deploy": "the record of a deployment (e.g. pulumi up output)",
    "diff": "an infrastructure diff report",
    "migration": "a change of the ledger's own format (govcloud ledger migrate)",
    "drift": "a drift report: live clusters against the rendered desired state",
}
