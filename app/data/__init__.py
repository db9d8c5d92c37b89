"""Importers, tag maps, Modbus acquisition and dataset snapshots."""
