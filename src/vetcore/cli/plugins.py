"""``vetcore plugins``: installed plugins, their versions, origins, hooks and load errors."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "plugins",
        help="list plugins, what they provide and load errors",
        description="List builtin and installed plugins with version, origin, "
        "implemented hooks, what they registered, and why any failed "
        "to load (--debug adds tracebacks).",
    )
    p.add_argument("--config", metavar="FILE", help="TOML configuration (its [plugins] disable applies)")
    return p


def run(args: argparse.Namespace) -> int:
    from vetcore.cli import make_plugin_manager
    from vetcore.config import load_config
    from vetcore.plugins import AUTOLOAD_ENV

    pm = make_plugin_manager(args, load_config(args.config))
    for record in pm.records:
        version = f" {record.version}" if record.version else ""
        print(f"{record.name}{version}  ({record.origin})")
        if record.disabled:
            print("  disabled")
        elif record.error:
            print(f"  ERROR: {record.error}")
            if args.debug and record.traceback:
                print("  " + record.traceback.rstrip().replace("\n", "\n  "))
        else:
            hooks = ", ".join(h.removeprefix("vetcore_") for h in record.hooks) or "none"
            print(f"  hooks: {hooks}")
            for kind in ("checks", "loaders", "renderers"):
                names = getattr(record, kind)
                if names:
                    print(f"  {kind}: {', '.join(names)}")
    if not pm.autoload:
        print(f"(entry-point plugins not loaded: {AUTOLOAD_ENV} is set)")
    return 0
