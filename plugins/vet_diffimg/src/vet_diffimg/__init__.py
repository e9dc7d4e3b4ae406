"""vetcore plugin: V09 difference-image localization."""

__version__ = "0.1.0"
