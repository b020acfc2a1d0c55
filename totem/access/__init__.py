"""Who may do what (tokens with a role, repo scopes and environments) and who did (the audit trail).

One store for both, shared by every service of an installation: Redis under TOTEM_ACCESS_PREFIX.
Services check a request with `guard.require(action)`; everything else reads `Principal`.
"""

from totem.access.principal import BOOTSTRAP, Principal
from totem.access.roles import ACTIONS, ROLES, role_for

__all__ = ["ACTIONS", "BOOTSTRAP", "ROLES", "Principal", "role_for"]
