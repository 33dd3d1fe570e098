"""Pulumi ComponentResources the stacks/ program is built from.

``foundation.ClusterFoundation`` (one per shared cluster) and ``tenant.TenantEnvironment`` (one
per tenant), wired together by ``program.main`` from the stack name. Everything about a tenant,
zone or flow comes from the model; nothing is written twice.
"""
