"""The govcloud policy pack (run by the Pulumi engine, and by `govcloud check`).

Thin on purpose: the rules live in the govcloud package (govcloud.policy.rules), so the CLI,
the tests and the documentation read the very list this program serves.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from govcloud.policy.catalog import PACK_NAME, policies

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
    description="MLPS 2.0 (GB/T 22239-2019) baselines and the govcloud platform standards: data, technology, "
    "management, services, security.",
)
