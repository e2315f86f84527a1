#!/usr/bin/env bash
# A ClickHouse cluster on 127.0.0.1 for the cluster tests: cluster `ledger` of two shards × two
# replicas of Debian's clickhouse-server (18.16), coordinated by Debian's zookeeper, each process
# with its own config and data under $TOKENLEDGER_CLUSTER_DIR (default /tmp/tokenledger-cluster).
# Sized for a small shared machine (small caches, 2 background threads, 64 MiB JVM heap).
#
#   dev-cluster.sh [start]      start whatever is not running, wait until all answer (idempotent)
#   dev-cluster.sh kill NODE…   SIGKILL nodes (s1r1 s1r2 s2r1 s2r2 zk), as a crash would
#   dev-cluster.sh stop         stop everything (SIGTERM)
#   dev-cluster.sh reset        stop everything and delete its data (a fresh cluster on next start)
#   dev-cluster.sh status       what answers
#
# Nodes sNrM: HTTP 813X, native TCP 913X, interserver 923X with X = 2·(N-1)+M; ZooKeeper 2191.
# Tests find it through TOKENLEDGER_CLUSTER_URL (default http://127.0.0.1:8131, node s1r1).
set -euo pipefail
DIR=${TOKENLEDGER_CLUSTER_DIR:-/tmp/tokenledger-cluster}
ZK_PORT=2191
NODES=(s1r1 s1r2 s2r1 s2r2)

idx() { case $1 in s1r1) echo 1;; s1r2) echo 2;; s2r1) echo 3;; s2r2) echo 4;; *) echo "unknown node $1 (use ${NODES[*]} zk)" >&2; exit 2;; esac; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
zk_ok() { exec 3<>/dev/tcp/127.0.0.1/$ZK_PORT && echo ruok >&3 && [ "$(timeout 2 cat <&3)" = imok ]; } 2>/dev/null
ch_query() { curl -fsS -m 2 "http://127.0.0.1:813$(idx "$1")/" --data-binary "$2" 2>/dev/null; }
ch_ok() { curl -fsS -m 2 "http://127.0.0.1:813$(idx "$1")/ping" >/dev/null 2>&1; }

need() {
  local have_ch=1
  command -v clickhouse-server >/dev/null || [ -x /usr/sbin/clickhouse-server ] || have_ch=0
  if [ $have_ch -eq 0 ] || ! command -v java >/dev/null || [ ! -f /usr/share/java/zookeeper.jar ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    # The zookeeper package ships jars and configs only; nothing starts it here.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends zookeeper clickhouse-server clickhouse-client >/dev/null
  fi
}

write_zk() {
  mkdir -p "$DIR/zk/data"
  cat >"$DIR/zk/zoo.cfg" <<EOF
tickTime=500
initLimit=10
syncLimit=5
dataDir=$DIR/zk/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
EOF
}

start_zk() {
  if alive "$DIR/zk/pid" && zk_ok; then return; fi
  write_zk
  # The jar's manifest names its dependencies; QuorumPeerMain with a standalone zoo.cfg is what
  # zkServer.sh runs, without its systemd/log4j plumbing.
  nohup java -Xms16m -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k \
    -Dzookeeper.log.dir="$DIR/zk" -Dzookeeper.root.logger=WARN,CONSOLE \
    -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar org.apache.zookeeper.server.quorum.QuorumPeerMain "$DIR/zk/zoo.cfg" \
    >"$DIR/zk/zk.log" 2>&1 &
  echo $! >"$DIR/zk/pid"
}

write_users() {
  # background_pool_size (merges and fetches) is a profile setting in 18.16 and read at start-up.
  # FINAL reads every part of a table at once with one read buffer per column (1 MiB by default,
  # ≈ 45 MiB a part for the calls table): 128 KiB keeps a query over tens of fresh parts small.
  cat >"$DIR/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles><default>
    <max_threads>2</max_threads>
    <max_read_buffer_size>131072</max_read_buffer_size>
    <background_pool_size>2</background_pool_size>
    <background_schedule_pool_size>4</background_schedule_pool_size>
    <max_memory_usage>536870912</max_memory_usage>
    <max_memory_usage_for_all_queries>805306368</max_memory_usage_for_all_queries>
    <distributed_ddl_task_timeout>60</distributed_ddl_task_timeout>
  </default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default/></quotas>
</yandex>
EOF
}

write_node() {
  local n=$1 i; i=$(idx "$n")
  local d="$DIR/$n" shard=${n:1:1}
  mkdir -p "$d/data" "$d/tmp" "$d/log"
  replica() { echo "<replica><host>127.0.0.1</host><port>913$1</port></replica>"; }
  cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$d/log/server.log</log><errorlog>$d/log/err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>813$i</http_port>
  <tcp_port>913$i</tcp_port>
  <interserver_http_port>923$i</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <users_config>$DIR/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>16777216</mark_cache_size>
  <uncompressed_cache_size>16777216</uncompressed_cache_size>
  <max_concurrent_queries>32</max_concurrent_queries>
  <remote_servers>
    <ledger>
      <shard><internal_replication>true</internal_replication>$(replica 1)$(replica 2)</shard>
      <shard><internal_replication>true</internal_replication>$(replica 3)$(replica 4)</shard>
    </ledger>
  </remote_servers>
  <zookeeper>
    <node><host>127.0.0.1</host><port>$ZK_PORT</port></node>
    <session_timeout_ms>10000</session_timeout_ms>
  </zookeeper>
  <macros><shard>0$shard</shard><replica>$n</replica></macros>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</yandex>
EOF
}

start_node() {
  local n=$1 bin
  if alive "$DIR/$n/pid" && ch_ok "$n"; then return; fi
  write_node "$n"
  bin=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
  rm -f "$DIR/$n/pid"
  "$bin" --config-file="$DIR/$n/config.xml" --pid-file="$DIR/$n/pid" --daemon
}

wait_all() {
  local deadline=$(( $(date +%s) + 60 )) n pending
  while :; do
    pending=()
    zk_ok || pending+=(zk)
    for n in "${NODES[@]}"; do ch_ok "$n" || pending+=("$n"); done
    [ ${#pending[@]} -eq 0 ] && break
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "cluster did not come up: ${pending[*]} not answering; see $DIR/*/log and $DIR/zk/zk.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  # ZooKeeper answers before ClickHouse has a session, and replicated tables stay read-only for
  # seconds after ZooKeeper comes back: wait until every node can run replicated DDL and inserts.
  for n in "${NODES[@]}"; do
    until [ "$(ch_query "$n" "SELECT (SELECT count() FROM system.zookeeper WHERE path = '/') > 0 AND (SELECT count() FROM system.replicas WHERE is_readonly OR is_session_expired) = 0")" = 1 ]; do
      [ "$(date +%s)" -gt "$deadline" ] && { echo "clickhouse $n has no ZooKeeper session or read-only tables; see $DIR/$n/log" >&2; exit 1; }
      sleep 0.2
    done
  done
}

# Signals the given nodes at once, then waits until they are gone; a server still shutting down
# gracefully after 10 s is killed.
signal() {
  local sig=$1 n f pid pids=() alive_pids=(); shift
  for n in "$@"; do
    if [ "$n" = zk ]; then f="$DIR/zk/pid"; else idx "$n" >/dev/null; f="$DIR/$n/pid"; fi
    pid=$(cat "$f" 2>/dev/null) || continue
    rm -f "$f"
    kill "-$sig" "$pid" 2>/dev/null && pids+=("$pid")
  done
  for _ in $(seq 1 100); do
    alive_pids=(); for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive_pids+=("$pid"); done
    [ ${#alive_pids[@]} -eq 0 ] && return
    sleep 0.1
  done
  kill -KILL "${alive_pids[@]}" 2>/dev/null || true
  for pid in "${alive_pids[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done
}

case ${1:-start} in
  start)
    need
    mkdir -p "$DIR"
    write_users
    start_zk
    for n in "${NODES[@]}"; do start_node "$n"; done
    wait_all
    echo "clickhouse cluster 'ledger' (2 shards × 2 replicas, $(curl -fsS 'http://127.0.0.1:8131/?query=SELECT%20version()')) on 127.0.0.1:8131-8134, zookeeper on 127.0.0.1:$ZK_PORT; data in $DIR"
    ;;
  kill) shift; signal KILL "$@" ;;
  stop) signal TERM "${NODES[@]}" zk ;;
  reset) signal TERM "${NODES[@]}" zk; rm -rf "${DIR:?}" ;;
  status)
    zk_ok && echo "zk up" || echo "zk down"
    for n in "${NODES[@]}"; do ch_ok "$n" && echo "$n up" || echo "$n down"; done
    ;;
  *) echo "usage: $0 [start|kill NODE…|stop|reset|status]" >&2; exit 2 ;;
esac
