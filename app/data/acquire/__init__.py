"""Modbus acquisition: the polling loop, read planning, tag and waveform capture, spooling
session and its result."""
