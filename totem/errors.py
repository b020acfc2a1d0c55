"""The root of Totem's own exceptions.

Every exception class Totem defines derives from `TotemError`, directly or through its
package's root (`DeployerError`, `ImageFactoryError`, `OrchestratorError`, `ProxyError`,
`DiscoverError`, `StoreError`). A class that callers also catch as a built-in kind keeps that
kind as its second base (`class SettingsError(TotemError, ValueError)`), so `except ValueError`
around it keeps working.
"""

from __future__ import annotations


class TotemError(Exception):
    """Root of every Totem error."""
