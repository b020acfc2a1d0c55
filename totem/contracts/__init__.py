"""What crosses a service boundary: the generic hook, the deploy request, the /yoda key layout."""
