"""Security standard: zones and flows, pod security, RBAC and separation of duties, secrets."""
