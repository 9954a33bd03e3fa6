#!/usr/bin/env bash
# Start (or reuse) a throwaway Prometheus that scrapes itself, for the prometheus source tests, then print its URL.
#
#   scripts/start-prometheus.sh          # idempotent: write the config if missing, start if stopped, wait until ready
#   scripts/start-prometheus.sh stop     # stop it (the data dir is kept)
#   scripts/start-prometheus.sh destroy  # stop it and delete the data dir
#
# Only the URL goes to stdout: export PACHCA_DIGEST_TEST_PROMETHEUS="$(scripts/start-prometheus.sh)".
# It scrapes only itself (127.0.0.1:PORT, every second), so `up`, `prometheus_build_info` and the
# `prometheus_http_requests_total` counters always exist a few seconds after start.
#
# Environment (all optional):
#   PACHCA_DIGEST_PROM_DATA  working directory (config, TSDB, log, pid)   (default /tmp/pachca-digest-prometheus)
#   PACHCA_DIGEST_PROM_PORT  TCP port on 127.0.0.1                         (default 59090)
#   PACHCA_DIGEST_PROM_BIN   prometheus binary                             (default: prometheus on PATH, else /usr/bin/prometheus)
set -euo pipefail

DATA="${PACHCA_DIGEST_PROM_DATA:-/tmp/pachca-digest-prometheus}"
PORT="${PACHCA_DIGEST_PROM_PORT:-59090}"
BIN="${PACHCA_DIGEST_PROM_BIN:-$(command -v prometheus || echo /usr/bin/prometheus)}"
ACTION="${1:-start}"
URL="http://127.0.0.1:$PORT"
PIDFILE="$DATA/prometheus.pid"

log() { echo "start-prometheus: $*" >&2; }
die() { log "error: $*"; exit 1; }

is_running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
is_ready() { curl -fsS -m 2 "$URL/-/ready" >/dev/null 2>&1; }

stop() {
  if is_running; then
    local pid
    pid="$(cat "$PIDFILE")"
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" || true
    log "stopped (pid $pid)"
  else
    log "not running ($DATA)"
  fi
  rm -f "$PIDFILE"
}

case "$ACTION" in
  start) ;;
  stop) stop; exit 0 ;;
  destroy) stop; rm -rf -- "$DATA"; log "removed $DATA"; exit 0 ;;
  *) die "unknown action '$ACTION' (expected start, stop or destroy)" ;;
esac

command -v curl >/dev/null || die "curl is needed to wait for readiness"
[[ -x "$BIN" ]] || die "prometheus not found ($BIN). Install it: apt-get install -y prometheus, or set PACHCA_DIGEST_PROM_BIN."

mkdir -p "$DATA/tsdb"
cat >"$DATA/prometheus.yml" <<EOF
# pachca-digest test Prometheus: scrapes itself every second.
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF

if is_running; then
  log "already running (pid $(cat "$PIDFILE"), $DATA)"
elif is_ready; then
  # Someone else's Prometheus on our port: reuse it rather than fail to bind.
  log "a Prometheus already answers on $URL; reusing it"
else
  log "starting on $URL (data in $DATA)"
  # setsid + nohup: the server must outlive this script and the CI step that ran it.
  setsid nohup "$BIN" \
    --config.file="$DATA/prometheus.yml" \
    --storage.tsdb.path="$DATA/tsdb" \
    --storage.tsdb.retention.time=1d \
    --web.listen-address="127.0.0.1:$PORT" \
    >"$DATA/prometheus.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
fi

for _ in $(seq 1 120); do
  is_ready && break
  is_running || { tail -n 20 "$DATA/prometheus.log" >&2 || true; die "Prometheus exited (log: $DATA/prometheus.log)"; }
  sleep 0.25
done
is_ready || die "Prometheus on $URL is not ready after 30s (log: $DATA/prometheus.log)"

# Ready is not enough: tests query `up`, which exists after the first scrape.
for _ in $(seq 1 40); do
  if curl -fsS -m 2 "$URL/api/v1/query?query=up" | grep -q '"value"'; then break; fi
  sleep 0.25
done

echo "$URL"
