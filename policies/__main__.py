"""The govcloud policy pack (run by the Pulumi engine, and by `govcloud check`).

Thin on purpose: the rules live in the govcloud package (govcloud.policy.rules), so the CLI,
the tests and the documentation read the very list this program serves.
"""

from govcloud.policy.pack import serve

serve()
