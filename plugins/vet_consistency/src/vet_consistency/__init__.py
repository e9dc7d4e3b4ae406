"""vetcore plugin: V25 cross-sector localization consistency."""

__version__ = "0.1.0"
