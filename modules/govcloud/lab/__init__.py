"""The lab: real booted Debian hosts (systemd-nspawn) for an environment, on this machine.

``image`` builds and caches the base image, ``plan`` derives machines, bridges and addresses
from the model, ``netns`` keeps every lab packet inside the lab's own network namespace,
``keys`` makes the per-lab SSH keys and credentials, and ``lab`` brings it all up and down.
"""

from .errors import LabError

__all__ = ["LabError"]
