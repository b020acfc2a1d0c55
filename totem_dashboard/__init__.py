"""The operator dashboard: a small Flask app reading the services' public APIs (default port 9500)."""
