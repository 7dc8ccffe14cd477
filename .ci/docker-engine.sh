#!/usr/bin/env bash
# Brings up a Docker engine on a CI/dev machine of this project's kind
# (Debian bookworm VM, root, no systemd, no container registry, no bridge networking).
#
# Why: the service ships as a container, so CI builds and runs the image. Debian's docker.io
# is the only engine reachable through the package registries; it is started by hand without a
# bridge or iptables rules, so every `docker build` / `docker run` must use `--network host`.
#
# Idempotent: installs only when /usr/sbin/dockerd is missing, starts dockerd only when `docker info`
# does not answer. Prints the client/server version at the end.
# Env: DOCKERD_LOG (default /var/log/dockerd.log), DOCKER_WAIT_SECONDS (default 60).
#
# Note: use /usr/bin/docker (Debian's 20.10 client). A newer static client may sit earlier on PATH
# (/usr/local/bin/docker); with DOCKER_BUILDKIT=1 it wants a buildx plugin that is not installed.
set -euo pipefail

DOCKER=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
DOCKER_WAIT_SECONDS="${DOCKER_WAIT_SECONDS:-60}"
PIDFILE=/var/run/docker.pid

log() { printf '[docker-engine] %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root"; exit 1
fi

# 1. Install Debian's engine (client, dockerd, containerd, runc) if missing.
if [ ! -x "$DOCKERD" ] || [ ! -x "$DOCKER" ]; then
  log "installing docker.io from Debian"
  export DEBIAN_FRONTEND=noninteractive
  # --no-install-recommends: skips apparmor/needrestart/git etc.; none are needed to build or run.
  # Lists are refreshed only when the package is unknown or the install fails (stale lists -> 404).
  if ! { apt-cache show docker.io >/dev/null 2>&1 \
         && apt-get install -y -qq --no-install-recommends docker.io >/dev/null; }; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  fi
fi

# 2. Start dockerd unless it already answers.
if ! "$DOCKER" info >/dev/null 2>&1; then
  # A pid file survives a machine that was handed on without its processes; if the pid in it now
  # belongs to something else (or nothing), dockerd would refuse to start, so drop it.
  if [ -f "$PIDFILE" ]; then
    oldpid="$(cat "$PIDFILE" 2>/dev/null || true)"
    if [ -n "$oldpid" ] && [ -r "/proc/$oldpid/comm" ] && [ "$(cat "/proc/$oldpid/comm")" = dockerd ]; then
      log "dockerd (pid $oldpid) is running but not answering yet; waiting for it"
    else
      rm -f "$PIDFILE"
    fi
  fi
  started_pid=""
  if [ ! -f "$PIDFILE" ]; then
    log "starting dockerd (log: $DOCKERD_LOG)"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # No bridge, no iptables: this machine may not touch private-range networks; containers use the host's.
    setsid "$DOCKERD" --bridge=none --iptables=false --ip-masq=false \
      </dev/null >>"$DOCKERD_LOG" 2>&1 &
    started_pid=$!
  fi
  deadline=$((SECONDS + DOCKER_WAIT_SECONDS))
  until "$DOCKER" info >/dev/null 2>&1; do
    if [ -n "$started_pid" ] && ! kill -0 "$started_pid" 2>/dev/null; then
      log "dockerd exited during start-up; last log lines:"
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "dockerd did not answer within ${DOCKER_WAIT_SECONDS}s; last log lines:"
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
fi

"$DOCKER" version --format 'docker client {{.Client.Version}} (API {{.Client.APIVersion}}), server {{.Server.Version}} (API {{.Server.APIVersion}})'
