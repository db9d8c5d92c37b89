"""Tests of the shared Modbus plumbing: link, retry rules, exception texts, endpoints."""
