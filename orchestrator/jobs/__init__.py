"""Jobs: one current job per (owner, repo, ref), changed only by atomic read-modify-write."""
