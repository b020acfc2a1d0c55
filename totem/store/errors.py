"""Errors raised by store adapters."""

from totem import metrics
from totem.errors import TotemError


class StoreError(TotemError, RuntimeError):
    """Base class for store failures."""


class StoreUnavailable(StoreError):
    """etcd could not be reached (connection refused, timeout, 5xx)."""


class Compacted(StoreError):
    """The requested history is gone; the caller must re-read and diff."""


class StoreConflict(StoreError):
    """An atomic update kept losing races."""


def translating(unavailable: tuple[type[BaseException], ...], refused: tuple[type[BaseException], ...] = ()):
    """Decorator factory: an adapter's client exceptions become StoreUnavailable / StoreError."""
    import functools

    def decorate(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except unavailable as exc:
                metrics.store_error("etcd")
                raise StoreUnavailable(f"etcd unavailable: {exc}") from None
            except refused as exc:
                metrics.store_error("etcd")
                raise StoreError(f"etcd refused the request: {getattr(exc, 'detail_text', None) or exc}") from None

        return wrapper

    return decorate
