"""A local multi-host cluster for development and tests: `totem cluster up | down | status`.

Hosts are network namespaces on a bridge (10.213.0.0/24), each with its own dockerd (TLS), in one
Swarm, with a 3-member etcd over them, the stack registry relayed into each, and the yoda
sidekicks; the interface is `totem_cluster.rig.Cluster`.
"""
