"""Thin command line over the services."""
