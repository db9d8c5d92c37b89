"""Tests of data import, tag maps, Modbus acquisition and the device simulator."""
