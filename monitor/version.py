"""The installed slamon version, for ``--version`` and ``slamon_build_info``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["slamon_version"]


def slamon_version() -> str:
    """The distribution's version; the package's own when run from a source tree."""
    try:
        return version("slamon")
    except PackageNotFoundError:
        from monitor import __version__

        return __version__
