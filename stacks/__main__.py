"""The govcloud Pulumi program. The stack name selects what it builds:

    <env>.cluster-<cluster-id>   the foundation of one shared cluster
    <env>.<tenant-id>            one tenant's environment

    pulumi stack init lab.cluster-egov-1 && pulumi up --policy-pack policies/
"""

from pathlib import Path

from govcloud.components.program import main

main(project_dir=Path(__file__).resolve().parent.parent)
