"""yoda-discover."""
