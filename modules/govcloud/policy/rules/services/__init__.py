"""Services standard: how tenants publish services through the internet gateway."""
