"""Report writers, one module per format.

Each module exposes ``render(report, out_dir) -> list[Path]`` and is registered
as a :class:`~vetcore.model.Renderer` by :mod:`vetcore.builtin.renderers`.
Modules import heavy libraries (matplotlib…) inside ``render`` so that loading
the plugin stays cheap.
"""
