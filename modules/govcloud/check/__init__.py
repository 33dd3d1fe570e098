"""``govcloud check``: the policy pack over the rendered desired state, through the analyzer
protocol (``analyzer``), waivers applied with an explicit clock (``waivers``), results
(``results``) in table, JSON, SARIF and JUnit form (``formats``)."""
