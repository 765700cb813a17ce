"""Every command, registered on the typer application (importing this module registers them)."""

from __future__ import annotations

from twoku.cli import adjust as _adjust  # noqa: F401
from twoku.cli import diff as _diff  # noqa: F401
from twoku.cli import importer as _importer  # noqa: F401
from twoku.cli import init as _init  # noqa: F401
from twoku.cli import library as _library  # noqa: F401
from twoku.cli import migrate as _migrate  # noqa: F401
from twoku.cli import new as _new  # noqa: F401
from twoku.cli import override as _override  # noqa: F401
from twoku.cli import publish as _publish  # noqa: F401
from twoku.cli import report as _report  # noqa: F401
from twoku.cli import run as _run  # noqa: F401
from twoku.cli import signoff as _signoff  # noqa: F401
from twoku.cli import table as _table  # noqa: F401
from twoku.cli import validate as _validate  # noqa: F401
from twoku.cli.application import app

__all__ = ["app"]
