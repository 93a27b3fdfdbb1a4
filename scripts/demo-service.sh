# Sourced by scripts that need the demo service up: start_demo PORT PIDFILE LOG starts
# faultline-demo under its restarting supervisor, stops it on exit (the supervisor takes its
# worker down with it), and waits until it answers. Needs $build. A script may define
# demo_cleanup_extra before sourcing this to clean up more on exit.
declare -F demo_cleanup_extra >/dev/null || demo_cleanup_extra() { :; }
start_demo() {
  local port="$1" pidfile="$2" log="$3"
  if curl -fsS --max-time 1 "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
    echo "$(basename "$0"): something already answers on 127.0.0.1:$port; stop it first" >&2
    exit 3
  fi
  "$build/src/faultline-demo" supervise --port "$port" --pidfile "$pidfile" 2>"$log" &
  demo_supervisor=$!
  trap 'kill "$demo_supervisor" 2>/dev/null || true; wait "$demo_supervisor" 2>/dev/null || true; demo_cleanup_extra' EXIT
  trap 'exit 130' INT TERM
  for _ in $(seq 1 50); do
    curl -fsS --max-time 1 "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$(basename "$0"): the demo service did not answer on 127.0.0.1:$port; see $log" >&2
  exit 3
}
