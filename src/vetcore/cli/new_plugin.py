"""``vetcore new-plugin NAME``: scaffold an installable plugin package with one working check.

The package is written from the templates in ``vetcore/templates/plugin/``
(``$name`` placeholders, see :class:`string.Template`; a ``__module__`` path
part becomes the module name)::

    NAME/
      pyproject.toml              # hatchling build, [project.entry-points.vetcore]
      README.md
      src/MODULE/__init__.py
      src/MODULE/plugin.py        # VETCORE_API and the registration hook
      src/MODULE/check.py         # parameters, flags, run(ctx), plot(result, axes)
      tests/test_check.py         # pytest with vetcore.testing's fixtures
"""

from __future__ import annotations

import argparse
import re
import string
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from vetcore.errors import VetcoreError

__all__ = ["add_parser", "render_templates", "run", "scaffold"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CHECK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "new-plugin",
        help="create a plugin package with one working check",
        description="Create an installable vetcore plugin package (pyproject.toml with the vetcore entry "
        "point, a sector check with parameters, flags and a plot, and its tests) in DIR/NAME.",
    )
    p.add_argument("name", metavar="NAME", help="package and module name, e.g. vet_mycheck (- becomes _)")
    p.add_argument("--dir", default=".", metavar="DIR", help="parent folder (default: the working folder)")
    p.add_argument("--check-id", default="X00", metavar="ID", help="id of the check (default: X00)")
    p.add_argument("--title", default="Aperture transit depth", help="one-line title of the check")
    return p


def _walk(node: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Traversable]]:
    items: list[tuple[tuple[str, ...], Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.is_dir():
            if child.name != "__pycache__":
                items += _walk(child, (*prefix, child.name))
        elif child.name.endswith(".tmpl"):
            items.append(((*prefix, child.name.removesuffix(".tmpl")), child))
    return items


def render_templates(module: str, check_id: str, title: str) -> dict[str, str]:
    """``{relative path: content}`` of the package for ``module``, rendered from the templates."""
    import vetcore

    values = {
        "module": module,
        "dist": module.replace("_", "-"),
        "check_id": check_id,
        "title": title,
        "vetcore_version": vetcore.__version__,
        "api": str(vetcore.API_VERSION),
    }
    root = resources.files("vetcore") / "templates" / "plugin"
    files = {}
    for parts, source in _walk(root):
        path = "/".join(module if p == "__module__" else p for p in parts)
        files[path] = string.Template(source.read_text(encoding="utf-8")).substitute(values)
    return files


def scaffold(name: str, parent: str | Path = ".", check_id: str = "X00", title: str = "") -> Path:
    """Write the plugin package ``parent/name``; return its folder.

    Raises :class:`VetcoreError` for an invalid name or check id, or when the
    folder already exists and is not empty.
    """
    module = name.replace("-", "_")
    if not _NAME.match(module):
        raise VetcoreError(
            f"plugin name {name!r} is not a valid module name: use lower-case letters, digits and _ "
            "(e.g. vet_mycheck)"
        )
    if not _CHECK_ID.match(check_id):
        raise VetcoreError(f"check id {check_id!r} must be letters and digits (with - or _), e.g. X42")
    title = " ".join(title.split()) or "Aperture transit depth"
    if '"' in title or "\\" in title:
        raise VetcoreError("the check title cannot contain quotes or backslashes")
    target = Path(parent) / module
    if target.exists() and any(target.iterdir()):
        raise VetcoreError(f"{target} already exists and is not empty")
    from vetcore.io import atomic_write

    for rel, text in render_templates(module, check_id, title).items():
        atomic_write(target / rel, text)
    return target


def run(args: argparse.Namespace) -> int:
    target = scaffold(args.name, args.dir, args.check_id, args.title)
    module = target.name
    print(f"created plugin package {target}")
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        print(f"  {path.relative_to(target)}")
    print(
        "next steps:\n"
        f"  pip install -e {target}          # registers the entry point {module} = {module}.plugin\n"
        f"  vetcore checks --params {args.check_id}\n"
        f"  pytest {target}/tests"
    )
    return 0
