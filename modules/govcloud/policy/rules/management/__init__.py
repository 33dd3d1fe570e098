"""Management standard: capacity, change records, approvals and what a tenant stack may touch."""
