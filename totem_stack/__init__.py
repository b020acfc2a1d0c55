"""The local stack of real services on loopback: `totem stack up | down | status`.

etcd, Redis, dockerd, a container registry and a moto server (AWS stand-in), each started
detached with its data, log and pid file under $TOTEM_HOME, or reused when something
already answers on its address.
"""
