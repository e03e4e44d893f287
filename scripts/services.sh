#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 for the test suite: starts them if installed
# but down, installs them from Debian's packages when missing and running as root.
set -euo pipefail

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
apt_install() { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null; then
    can_install || { echo "PostgreSQL is not running on 127.0.0.1:5432: install Debian's postgresql package (trust auth for 127.0.0.1)." >&2; exit 1; }
    echo "Installing PostgreSQL from Debian's packages..."
    apt_install postgresql
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -1)
    grep -q "launchready-tests" "$hba" || sed -i '1i host all all 127.0.0.1/32 trust # launchready-tests\nhost all all ::1/128 trust # launchready-tests' "$hba"
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do pg_up && break; sleep 0.5; done
  pg_up || { echo "PostgreSQL did not start on 127.0.0.1:5432." >&2; exit 1; }
fi

if ! redis_up; then
  if ! command -v redis-server >/dev/null; then
    can_install || { echo "Redis is not running on 127.0.0.1:6379: install Debian's redis-server package." >&2; exit 1; }
    echo "Installing Redis from Debian's packages..."
    apt_install redis-server redis-tools
  fi
  mkdir -p /tmp/launchready-redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp/launchready-redis --logfile /tmp/launchready-redis/redis.log
  for _ in $(seq 1 30); do redis_up && break; sleep 0.2; done
  redis_up || { echo "Redis did not start on 127.0.0.1:6379." >&2; exit 1; }
fi
