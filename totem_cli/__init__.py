"""The `totem` command: the local stack, config validation, operator commands and the demo."""
