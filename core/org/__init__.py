"""Organisation: rosters, academic terms, channel mappings and outcomes."""
