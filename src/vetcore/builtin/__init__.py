"""vetcore's own plugins (loaders, renderers), registered through the same hooks as any other.

Their names in :data:`vetcore.plugins.BUILTIN_PLUGINS` can be given to
``--disable-plugin`` (in full or as the last component, e.g. ``renderers``).
"""
