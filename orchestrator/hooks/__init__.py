"""Incoming hooks: GitHub, Travis and generic intake, each persisted before it is answered."""
