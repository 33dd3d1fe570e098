"""Talking to the lab's API servers from this machine: the one place that knows how.

The control planes listen inside the lab's network namespace; the machine's own namespace has
no route there, by design. Two ways in, both from here:

- **a program** (the Pulumi engine, kubectl, a test tool): ``command(argv)`` prefixes it with
  ``nsenter --net=/run/netns/<lab namespace>`` and ``environment()`` adds ``KUBECONFIG``; the
  CLI spelling is ``govcloud lab exec --env ENV -- CMD ...``. Children inherit the namespace
  (the engine's provider plugins too).
- **in-process** (the official ``kubernetes`` client): ``client(context)`` returns an
  ``ApiClient`` whose connection pools create their sockets in the lab namespace
  (``govcloud.lab.netns.Sockets``: a socket keeps the namespace it was made in), so it can be
  used from any thread, with any of the client's APIs, like any other ``ApiClient``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from ..lab import netns

if TYPE_CHECKING:
    from kubernetes.client import ApiClient, Configuration


def _connection_pool(namespace: str) -> type[HTTPSConnectionPool]:
    sockets = netns.Sockets.of(namespace)

    class NamespaceHTTPSConnection(HTTPSConnection):
        def _new_conn(self):  # urllib3's extension point (as its SOCKS support uses)
            try:
                return sockets.create_connection((self._dns_host, self.port), self.timeout, self.socket_options)
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"connection to {self.host} timed out in namespace {namespace}") from exc
            except OSError as exc:
                raise NewConnectionError(self, f"cannot connect in namespace {namespace}: {exc}") from exc

    class NamespaceHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = NamespaceHTTPSConnection

    return NamespaceHTTPSConnectionPool


def in_namespace(api_client: "ApiClient", namespace: str) -> "ApiClient":
    """Make every connection of ``api_client`` from the lab namespace."""
    pool_manager = api_client.rest_client.pool_manager
    pool_manager.clear()
    pool_manager.pool_classes_by_scheme = {"https": _connection_pool(namespace)}
    return api_client


def configuration(server: str, ca: Path, cert: Path | None, key: Path | None) -> "Configuration":
    from kubernetes.client import Configuration

    config = Configuration()
    config.host = server
    config.ssl_ca_cert = str(ca)
    config.cert_file = str(cert) if cert else None
    config.key_file = str(key) if key else None
    config.verify_ssl = True
    return config


def client_for(namespace: str, config: "Configuration") -> "ApiClient":
    from kubernetes.client import ApiClient

    return in_namespace(ApiClient(config), namespace)


_discovery_dir: str | None = None


def dynamic(api_client: "ApiClient"):
    """A ``DynamicClient`` over ``api_client`` with a discovery cache of its own: the client's
    default cache file is named by server address only, and two labs (or a test's and a
    developer's) serve the same addresses. The files live in a private directory removed when
    the process ends. Resolve resources (``.resources.get``) from one thread; discovery is not
    thread-safe. Requests on resolved resources are."""
    import atexit
    import shutil
    import tempfile
    import uuid

    from kubernetes.dynamic import DynamicClient

    global _discovery_dir
    if _discovery_dir is None:
        _discovery_dir = tempfile.mkdtemp(prefix="govcloud-discovery-")
        atexit.register(shutil.rmtree, _discovery_dir, True)
    return DynamicClient(api_client, cache_file=os.path.join(_discovery_dir, f"{uuid.uuid4().hex}.json"))


class Access:
    """How this machine reaches one lab's control planes: its namespace and kubeconfig."""

    def __init__(self, namespace: str, kubeconfig: Path):
        self.namespace = namespace
        self.kubeconfig = kubeconfig

    def client(self, context: str) -> "ApiClient":
        """An ``ApiClient`` for a kubeconfig context (a cluster's ``kube_context`` is its deployer;
        ``<account>@<kube_context>`` a tenant administrator)."""
        from kubernetes import config as kube_config

        api_client = kube_config.new_client_from_config(config_file=str(self.kubeconfig), context=context,
                                                        persist_config=False)
        return in_namespace(api_client, self.namespace)

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["KUBECONFIG"] = str(self.kubeconfig)
        return env

    def command(self, argv: list[str]) -> list[str]:
        return netns.command(self.namespace, argv)
