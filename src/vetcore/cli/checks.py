"""``vetcore checks``: list installed checks, or show one check's parameters and flags."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "checks",
        help="list installed checks (or one check's parameters)",
        description="List every installed check, or with --params ID the "
        "parameters (config keys) and flags of one check.",
    )
    p.add_argument("--params", metavar="ID", help="show the parameters and flags of this check")
    p.add_argument("--config", metavar="FILE", help="TOML configuration (its [plugins] disable applies)")
    return p


def _short(text: str, width: int = 80) -> str:
    """First sentence of ``text``, cut to ``width`` characters."""
    first = " ".join(text.split()).split(". ")[0]
    return first if len(first) <= width else first[: width - 3] + "..."


def _describe(check: Any) -> str:
    from vetcore.cli import table

    lines = [
        f"{check.id}: {check.title}",
        f"scope {check.scope.value}, version {check.version}, plugin {check.plugin}, "
        f"requires {', '.join(check.requires) or 'nothing'}",
    ]
    if check.summary:
        lines.append(check.summary)
    lines.append("")
    if check.params:
        rows = [
            [
                p.name,
                p.type,
                repr(p.default),
                p.unit,
                p.doc + (f" (one of {', '.join(map(str, p.choices))})" if p.choices else ""),
            ]
            for p in check.params
        ]
        lines.append(f"parameters ([checks.{check.id}] in vetcore.toml):")
        lines.append(table(rows, ["name", "type", "default", "unit", "doc"]))
    else:
        lines.append("parameters: none")
    if check.flags:
        lines.append("")
        lines.append("flags:")
        lines.append(table(sorted(check.flags.items()), ["flag", "meaning"]))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from vetcore.cli import make_plugin_manager, table
    from vetcore.config import load_config

    pm = make_plugin_manager(args, load_config(args.config))
    if args.params:
        print(_describe(pm.get_check(args.params)))
        return 0
    if not pm.checks:
        print("no checks installed (see 'vetcore plugins')")
        return 0
    rows = [
        [c.id, c.scope.value, c.plugin, c.version, _short(c.summary or c.title)] for c in pm.checks.values()
    ]
    print(table(rows, ["id", "scope", "plugin", "version", "summary"]))
    return 0
