"""`totem demo`: run the whole pipeline locally on a bundled sample app (examples/hello)."""
