"""The rules, one small module per rule (or tight group), in a package per standard:
data (GOV-DAT), technology (GOV-TEC), management (GOV-MGT), services (GOV-SVC) and
security (GOV-SEC). ``govcloud.policy.catalog`` collects them."""
