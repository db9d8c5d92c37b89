"""Controller protocol client, discovery and the reference controller runtime."""
