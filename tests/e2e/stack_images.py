"""Images for the compose test, built locally (nothing is pulled): the one implementation lives in
totem_stack/images.py, which Totem on the rig's Swarm uses too."""

from __future__ import annotations

from totem_stack.images import REPO, TOTEM_IMAGE, stack_base_image, totem_image

__all__ = ["REPO", "TOTEM_IMAGE", "stack_base_image", "totem_image"]
