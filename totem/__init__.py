"""Totem: continuous delivery for stateless containerized services."""

__version__ = "0.1.0"
