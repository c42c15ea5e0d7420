#!/usr/bin/env bash
# Installs the system programs the integration and end-to-end tests run for real: PostgreSQL server
# binaries (initdb, pg_ctl), OpenSSH server (sshd, ssh-keygen), Chromium and a font for its screenshots, and
# the drivers the native listener is tested with: the PostgreSQL JDBC driver (run by a JDK's source-file
# mode), psycopg2 and psycopg 3 for Debian's python3.
# Idempotent: checks first and only runs apt-get (update + install) when something is missing.
# Not responsible for npm packages or for starting any service; the test harness starts its own.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

log() { printf '[install-system-deps] %s\n' "$*"; }
fail() {
  printf '[install-system-deps] error: %s\n' "$*" >&2
  exit 1
}

# Prints the first PostgreSQL bin directory (any version) that holds initdb and pg_ctl.
find_postgres_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done
  return 1
}

has_chromium() {
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}

has_fonts() {
  # fc-list comes with fontconfig, which chromium depends on; fall back to looking for font files.
  if command -v fc-list >/dev/null 2>&1; then
    [[ -n "$(fc-list 2>/dev/null | head -n 1)" ]]
  else
    compgen -G '/usr/share/fonts/truetype/*/*.ttf' >/dev/null
  fi
}

missing=()
find_postgres_bin >/dev/null || missing+=(postgresql)
[[ -x /usr/sbin/sshd ]] && command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-server)
has_chromium || missing+=(chromium)
has_fonts || missing+=(fonts-dejavu-core)
# useradd/userdel/chpasswd (passwd package) and su (util-linux) are needed by the sshd and postgres harness.
command -v useradd >/dev/null 2>&1 && command -v chpasswd >/dev/null 2>&1 || missing+=(passwd)
command -v su >/dev/null 2>&1 || missing+=(util-linux)
# server/listeners/drivers.int.test.ts: `java Probe.java` needs a JDK (its compiler), pgjdbc, and psycopg2.
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
[[ -f /usr/share/java/postgresql.jar ]] || missing+=(libpostgresql-jdbc-java)
[[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1 || missing+=(python3-psycopg2)
# server/listeners/psycopg3.int.test.ts: psycopg 3 (server-side cursors, pipeline mode, prepared statements).
[[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import psycopg' >/dev/null 2>&1 || missing+=(python3-psycopg)

if ((${#missing[@]} == 0)); then
  log "all system dependencies present (postgres: $(find_postgres_bin), sshd, chromium, fonts, JDK, pgjdbc, psycopg2, psycopg 3)"
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    fail "missing: ${missing[*]}; run this script as root (or install sudo)"
  fi
else
  SUDO=()
fi

command -v apt-get >/dev/null 2>&1 || fail "missing: ${missing[*]}; apt-get not found, install them by hand"

log "installing: ${missing[*]}"
apt_log="$(mktemp)"
trap 'rm -f "$apt_log"' EXIT

if ! "${SUDO[@]}" apt-get update -qq >"$apt_log" 2>&1; then
  tail -n 20 "$apt_log" >&2
  fail "apt-get update failed"
fi
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >"$apt_log" 2>&1; then
  tail -n 30 "$apt_log" >&2
  fail "apt-get install ${missing[*]} failed"
fi

# Check again: a package installing without providing what we look for is a failure too.
find_postgres_bin >/dev/null || fail "PostgreSQL installed but no /usr/lib/postgresql/*/bin/initdb found"
[[ -x /usr/sbin/sshd ]] || fail "openssh-server installed but /usr/sbin/sshd not found"
has_chromium || fail "chromium installed but not found on PATH"
[[ -f /usr/share/java/postgresql.jar ]] || fail "libpostgresql-jdbc-java installed but /usr/share/java/postgresql.jar not found"
/usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1 || fail "python3-psycopg2 installed but not importable"
/usr/bin/python3 -c 'import psycopg' >/dev/null 2>&1 || fail "python3-psycopg installed but not importable"
log "done (postgres: $(find_postgres_bin))"
