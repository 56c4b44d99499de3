#!/usr/bin/env bash
# Installs the Debian 12 packages the kiosk needs to build, run with simulators and test.
# Idempotent: packages already present are not fetched again. Needs root or sudo.
set -euo pipefail

packages=(
  build-essential pkg-config
  # Slint: fonts through fontconfig, keyboard maps; winit's X11 client libraries for Xvfb runs
  libfontconfig1-dev libxkbcommon-dev libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxrandr2 libxi6
  # Slint LinuxKMS backend (the kiosk's display path): DRM, input, seat
  libgbm-dev libinput-dev libseat-dev
  # serial port enumeration, USB
  libudev-dev libusb-1.0-0-dev
  # scanners: libsane and its test backend
  libsane-dev sane-utils
  # chip encoder: PC/SC daemon, headers and the virtual reader used in tests
  pcscd libpcsclite-dev vsmartcard-vpcd
  # CJK font for screens and slips; X server for the start-up smoke test
  fonts-noto-cjk xvfb
  # the install test of the .deb on a clean Debian root
  debootstrap systemd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
