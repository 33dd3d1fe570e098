"""The real Pulumi engine: the deploy workspace (``workspace``), the CLI as govcloud runs it
(``pulumi``) and update plans bound to the desired state (``plan``)."""
