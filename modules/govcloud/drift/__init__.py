"""`govcloud drift`: the live objects of the control planes against the rendered desired state."""
