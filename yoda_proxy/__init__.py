"""yoda-proxy: etcd-driven HAProxy with hitless reloads and runtime updates."""
