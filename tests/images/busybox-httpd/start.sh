# Serve /www on $PORT, logging requests; with HEALTHY=1 the health file exists from the start.
/bin/busybox mkdir -p /www
if [ "$HEALTHY" = 1 ]; then /bin/busybox touch /www/health; fi
exec /bin/busybox httpd -f -vv -p "$PORT" -h /www
