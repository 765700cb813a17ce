"""Renderers of the public summary (twoku publish): html, md, xlsx, json — each to bytes."""

from __future__ import annotations

from collections.abc import Callable

from twoku.model.publication import Publication

FORMATS: tuple[str, ...] = ("html", "md", "xlsx", "json")


def renderer(fmt: str) -> Callable[[Publication], bytes]:
    """The function that renders ``fmt``; imported lazily (openpyxl is only needed for xlsx)."""
    from importlib import import_module

    module = import_module(f"twoku.render.publish.{fmt}")
    render: Callable[[Publication], bytes] = module.render
    return render
