"""The posture report for security teams and leaders (``govcloud report``).

``collect`` gathers the data (tenants by region and zone, compliance per rule and per tenant
from the check, per host control from the baseline verification, waivers, certificates and
tenant reviews expiring soon, capacity per cluster, the ledger's latest tree head) into one
JSON document; ``page`` draws the self-contained HTML page from it.
"""
