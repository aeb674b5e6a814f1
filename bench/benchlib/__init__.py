"""bench/compare's parts (see bench/compare)."""
