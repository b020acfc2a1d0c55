"""Totem image factory service."""
