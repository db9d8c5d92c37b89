"""Pure domain: types, errors, roles and policies, progress and cancel (stdlib and numpy only)."""
