#!/usr/bin/env bash
# Starts pcscd (with vsmartcard's virtual reader driver) when it is not already running.
# CI machines and containers have no systemd socket activation, so start it explicitly.
set -euo pipefail
if pgrep -x pcscd >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO mkdir -p /run/pcscd
$SUDO pcscd
for _ in $(seq 1 50); do
  [ -S /run/pcscd/pcscd.comm ] && exit 0
  sleep 0.1
done
echo "pcscd did not start" >&2
exit 1
