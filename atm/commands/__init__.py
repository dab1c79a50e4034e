"""Thin Typer commands: parse arguments, call one service, render the result."""
