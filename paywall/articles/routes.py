"""Article routes (being built)."""
