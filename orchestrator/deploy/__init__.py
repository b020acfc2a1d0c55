"""Deploy requests: how they are built from a job, and the client that sends them; and the client of
the image factory's builds API that the missing-hook check uses (`builds`).

Their schema is a contract: totem/contracts/deploy_request.py.
"""
