#!/usr/bin/env bash
# Installs and starts the system services the integration tests use: Debian's clickhouse-server
# (HTTP on 127.0.0.1:8123), prometheus/promtool and amtool (prometheus-alertmanager), redis-server
# (127.0.0.1:6379, the normalizer's shared join store) and haproxy (tests start their own, in front
# of two replicas). Idempotent; run as root (or with sudo).
# Tests find them through TOKENLEDGER_CLICKHOUSE_URL (default http://127.0.0.1:8123) and PATH.
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
command -v clickhouse-server >/dev/null || need+=(clickhouse-server clickhouse-client)
command -v promtool >/dev/null || need+=(prometheus)
command -v amtool >/dev/null || need+=(prometheus-alertmanager)
command -v redis-server >/dev/null || need+=(redis-server)
command -v haproxy >/dev/null || need+=(haproxy)
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  # The prometheus package would start its own daemon under systemd where there is one; tests start their own.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if curl -fsS http://127.0.0.1:8123/ping >/dev/null 2>&1; then
  echo "clickhouse-server already answers on 127.0.0.1:8123"
else
  $SUDO mkdir -p /var/lib/clickhouse /var/log/clickhouse-server /run/clickhouse-server
  $SUDO chown -R clickhouse:clickhouse /var/lib/clickhouse /var/log/clickhouse-server /run/clickhouse-server 2>/dev/null || true
  if id clickhouse >/dev/null 2>&1; then
    $SUDO -u clickhouse clickhouse-server --config-file=/etc/clickhouse-server/config.xml --daemon \
      --pid-file=/run/clickhouse-server/clickhouse-server.pid 2>/dev/null || \
    su -s /bin/sh clickhouse -c "clickhouse-server --config-file=/etc/clickhouse-server/config.xml --daemon --pid-file=/run/clickhouse-server/clickhouse-server.pid"
  else
    $SUDO clickhouse-server --config-file=/etc/clickhouse-server/config.xml --daemon
  fi
  for _ in $(seq 1 60); do
    curl -fsS http://127.0.0.1:8123/ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fsS http://127.0.0.1:8123/ping >/dev/null || { echo "clickhouse-server did not start; see /var/log/clickhouse-server/" >&2; exit 1; }
  echo "clickhouse-server started on 127.0.0.1:8123 ($(curl -fsS 'http://127.0.0.1:8123/?query=SELECT%20version()'))"
fi
# Tests find it through TOKENLEDGER_REDIS_URL (default redis://127.0.0.1:6379); loopback only, no persistence.
if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "redis-server already answers on 127.0.0.1:6379"
else
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes --logfile /tmp/tokenledger-redis.log
  for _ in $(seq 1 40); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.25
  done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "redis-server did not start; see /tmp/tokenledger-redis.log" >&2; exit 1; }
  echo "redis-server started on 127.0.0.1:6379 ($(redis-server --version | cut -d' ' -f3))"
fi
echo "prometheus: $(command -v prometheus) promtool: $(command -v promtool) haproxy: $(command -v haproxy)"
