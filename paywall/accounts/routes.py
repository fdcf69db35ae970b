"""Account routes (being built)."""
