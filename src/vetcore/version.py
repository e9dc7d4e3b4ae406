"""vetcore's release version (the plugin contract's version is :data:`vetcore.hookspecs.API_VERSION`)."""

__version__ = "0.1.0"
