"""Totem orchestrator service."""
