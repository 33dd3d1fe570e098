"""The govcloud policy pack: rules grouped by the five standards, run by Pulumi CrossGuard.

``policies/__main__.py`` (a thin program) builds the pack from ``catalog.rules()``; the engine
runs it on ``pulumi preview --policy-pack policies/`` and ``govcloud check`` drives the very same
program over the analyzer protocol. Importing this package never constructs ``PolicyPack``
(which would start the gRPC server and block).

The model facts a rule needs (zones and flows, registries, template bounds, datasets...) reach
it as the policy's configuration, generated from the model by ``govcloud policy config``.
"""
