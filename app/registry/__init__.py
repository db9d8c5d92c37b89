"""The model registry: the abstract store, its SQL store (the only code on the registry rows),
version names and hashes, release rules."""
