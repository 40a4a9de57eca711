"""Prefect flows and the I/O they orchestrate."""
