"""The govcloud model: one declarative source of truth, loaded and validated once.

Data flows one way: inventory -> model -> stacks/playbooks -> render -> check -> review ->
diff/ledger. This package is the first step and imports nothing from later ones.
"""

from .environment import Environment, Stack, Tenant, foundation_stack_name, tenant_stack_name
from .errors import InputError, Problem
from .loader import load_environment
from .platform import Platform
from .tenant import TenantRequest, tenant_id
from .waivers import Waiver

__all__ = [
    "Environment",
    "InputError",
    "Platform",
    "Problem",
    "Stack",
    "Tenant",
    "TenantRequest",
    "Waiver",
    "foundation_stack_name",
    "load_environment",
    "tenant_id",
    "tenant_stack_name",
]
