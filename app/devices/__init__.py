"""Controllers: the protocol (register map), the workstation client, the reference runtime,
and the simulators used by tests, benchmarks and the demo."""
