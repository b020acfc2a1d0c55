"""What crosses a service boundary: the generic hook, the deploy request, the /yoda key layout, the
container labels.

Shapes only (docs/architecture.md §3): every service imports them from here, none from another service.
"""
