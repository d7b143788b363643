"""The ``slamon`` command line: builds settings once and passes them down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="slamon",
    help="Streaming SLA breach monitor for customer-service and contact-center operations.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
out = Console()

EXIT_INVALID_RULES = 2


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Agreement files or folders (default: rules/)")
    ] = None,
) -> None:
    """Check agreement files; print file:line: field: message per problem; exit 2 on error."""
    from monitor.rulespec.loader import load_rules

    agreements, problems = load_rules(paths or [Path("rules")])
    for problem in problems:
        print(problem)
    if problems:
        err.print(f"[red]{len(problems)} problem(s)[/red] in the agreement files")
        raise typer.Exit(EXIT_INVALID_RULES)
    err.print(f"[green]ok[/green]: {len(agreements)} agreement(s) valid")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
