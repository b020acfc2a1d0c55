"""Errors raised by store adapters."""


class StoreError(RuntimeError):
    """Base class for store failures."""


class StoreUnavailable(StoreError):
    """etcd could not be reached (connection refused, timeout, 5xx)."""


class Compacted(StoreError):
    """The requested history is gone; the caller must re-read and diff."""


class StoreConflict(StoreError):
    """An atomic update kept losing races."""
