"""Builtin renderer plugin: the report formats vetcore ships with."""

from __future__ import annotations

from collections.abc import Callable

from vetcore import API_VERSION, Renderer, hookimpl
from vetcore.renderers import json_report

VETCORE_API = API_VERSION

RENDERERS = [
    Renderer("json", render=json_report.render, summary="report.json: every result, config and provenance"),
]


@hookimpl
def vetcore_register_renderers(register: Callable[[Renderer], None]) -> None:
    for renderer in RENDERERS:
        register(renderer)
