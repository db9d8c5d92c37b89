"""PlantML: offline, plant-side model management for air-gapped plants."""

__version__ = "0.1.0"
