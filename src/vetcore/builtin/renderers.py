"""Builtin renderer plugin: the report formats vetcore ships with."""

from __future__ import annotations

from collections.abc import Callable

from vetcore import API_VERSION, Renderer, hookimpl
from vetcore.renderers import html_report, json_report, png, summary

VETCORE_API = API_VERSION

RENDERERS = [
    Renderer("json", render=json_report.render, summary="report.json: every result, config and provenance"),
    Renderer("html", render=html_report.render, summary="report.html: self-contained page, verdict first"),
    Renderer("png", render=png.render, summary="one figure per sector plus the target summary figure"),
    Renderer("csv", render=summary.render_csv, summary="summary.csv: one row per target"),
    Renderer("ecsv", render=summary.render_ecsv, summary="summary.ecsv: one row per target, with units"),
]


@hookimpl
def vetcore_register_renderers(register: Callable[[Renderer], None]) -> None:
    for renderer in RENDERERS:
        register(renderer)
