"""yoda-route53."""
