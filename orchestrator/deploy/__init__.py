"""Deploy requests: their schema, how they are built from a job, and the client that sends them."""
