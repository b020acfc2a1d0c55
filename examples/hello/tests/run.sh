# hello's tests: start the app on $PORT and check what it serves. Exit status 0 = pass.
set -eu
cd "$(busybox dirname "$0")/.."
: "${PORT:?set PORT to a free port}"
www=$(busybox mktemp -d)
WWW=$www VERSION_FILE=VERSION busybox sh app/start.sh &
app=$!
trap 'kill $app 2>/dev/null; busybox rm -rf "$www"' EXIT

fetch() { busybox wget -q -O - "http://127.0.0.1:$PORT$1"; }
tries=0
until fetch /health >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 100 ] || { echo "FAIL: the app never answered on port $PORT"; exit 1; }
  busybox sleep 0.1
done

expect() {  # expect PATH TEXT
  got=$(fetch "$1")
  if [ "$got" != "$2" ]; then echo "FAIL: GET $1 answered '$got', expected '$2'"; exit 1; fi
  echo "ok: GET $1"
}
expect / "hello from $(busybox cat VERSION)"
expect /health ok
echo "all tests passed"
