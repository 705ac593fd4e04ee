# Helpers to reach (and, where installed but stopped, start) the machine's PostgreSQL and Redis.
# Start commands are the ones of the python-svc machine notes.

pg_ready() { .venv/bin/python - <<'PY' 2>/dev/null
import psycopg
psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3).close()
PY
}

redis_ready() { .venv/bin/python -c "import redis; redis.Redis(host='127.0.0.1', port=6379, socket_timeout=3).ping()" 2>/dev/null; }

ensure_postgres() {
  pg_ready && return 0
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "services: starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 20); do pg_ready && return 0; sleep 0.5; done
  fi
  return 1
}

ensure_redis() {
  redis_ready && return 0
  if command -v redis-server >/dev/null; then
    echo "services: starting Redis" >&2
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    for _ in $(seq 20); do redis_ready && return 0; sleep 0.5; done
  fi
  return 1
}
