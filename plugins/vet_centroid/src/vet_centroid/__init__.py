"""vetcore plugin: V08 centroid shift."""

__version__ = "0.1.0"
