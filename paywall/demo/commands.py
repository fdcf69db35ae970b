"""Demo commands (being built)."""
