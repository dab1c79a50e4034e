"""Thin Typer commands: parse arguments, call one service, render the result (STYLE.md rule 2)."""
