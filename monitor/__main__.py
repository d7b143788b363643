"""``python -m monitor …`` is ``slamon …``."""

from monitor.cli import main

main()
