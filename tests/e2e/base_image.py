"""The debootstrap Debian 12 base image: built by totem_stack/images.py (one implementation)."""

from __future__ import annotations

from totem_stack.images import BASE_IMAGE, PACKAGES, RECIPE, SUITE, cache_dir, ensure_base_image

__all__ = ["BASE_IMAGE", "PACKAGES", "RECIPE", "SUITE", "cache_dir", "ensure_base_image"]
