"""Deploy requests: how they are built from a job, and the client that sends them.

Their schema is a contract: totem/contracts/deploy_request.py.
"""
