"""The `mageguard` command line: commands only, no logic."""

from __future__ import annotations

import typer

from mageguard import __version__

app = typer.Typer(name="mageguard", no_args_is_help=True, add_completion=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mageguard {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    """mageguard: scan, fix, enforce, validate and prove."""


def main() -> None:
    app()
