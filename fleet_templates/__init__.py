"""Jinja unit templates for the fleet scheduler (default app, sidekicks, timer)."""
