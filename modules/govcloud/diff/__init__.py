"""Infrastructure diffs for reviewers and auditors (``govcloud diff``).

- ``changes``: resource and field changes between two desired states, secrets redacted;
- ``immutable``: the one table of fields whose change makes Pulumi replace a resource;
- ``revisions`` and ``incremental``: an environment at two git revisions, rendered with the
  current code, only where input digests differ;
- ``preview``: the same changes from ``pulumi preview --json``;
- ``verdicts``: policy verdict and waiver changes from two check reports;
- ``report`` and ``formats``: the report (JSON evidence, Markdown, HTML).
"""
