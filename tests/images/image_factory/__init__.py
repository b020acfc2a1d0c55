"""Fixtures for the image factory tests: git repositories, a hook receiver, a worker process."""
