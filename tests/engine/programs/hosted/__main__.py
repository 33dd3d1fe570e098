"""A program without cloud resources for the language host's tests: what the exec shim gave it."""

import os
import sys

import pulumi


class Box(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("govcloudtest:index:Box", name, None, None)
        self.register_outputs({})


config = pulumi.Config()
if config.get("fail") == "exception":
    # the exec shim reports it with the user's stack trace and exits 32: the host bails
    raise ValueError("the program refused: a message the user can act on")
if config.get("fail") == "crash":
    sys.exit(7)
Box("box")
pulumi.export("greeting", config.require("greeting"))
pulumi.export("token", config.require_secret("token"))
pulumi.export("stack", pulumi.get_stack())
pulumi.export("project", pulumi.get_project())
pulumi.export("organization", pulumi.get_organization())
pulumi.export("dryRun", pulumi.runtime.is_dry_run())
pulumi.export("cwd", os.getcwd())
pulumi.export("python", sys.executable)
