"""Totem deployer service."""
