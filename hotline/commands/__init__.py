"""Typer command groups mounted by hotline/cli.py, one module per area."""
