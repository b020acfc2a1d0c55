# Serve "hello from <version>" at / and "ok" at /health on $PORT, until stopped (SIGTERM stops it at once).
#   WWW          where the pages are written (default /tmp/www)
#   VERSION_FILE the version to serve (default /app/VERSION)
set -eu
www=${WWW:-/tmp/www}
version=$(busybox cat "${VERSION_FILE:-/app/VERSION}")
busybox mkdir -p "$www"
echo "hello from $version" > "$www/index.html"
echo ok > "$www/health"
busybox httpd -f -p "${PORT:-8080}" -h "$www" &
server=$!
trap 'kill "$server"; exit 0' TERM INT
wait "$server"
