"""vetcore plugin: X01 odd/even transit depth (an example of an in-house check package)."""

__version__ = "0.1.0"
