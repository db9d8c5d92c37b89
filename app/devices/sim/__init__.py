"""Simulators and rigs for tests, benchmarks and the demo: a Modbus device simulator with its
register model and tag map, and a serial line simulator (pacing, faults)."""
