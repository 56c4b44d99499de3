#!/usr/bin/env bash
# Command (2) of the README: the whole test suite. Installs what is missing (Debian packages),
# starts the PC/SC daemon the chip-encoder tests talk to, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/dev/packages.sh
deploy/dev/start-pcscd.sh
cargo test --workspace --locked

# Smoke test: the kiosk with every device simulated and the platform simulator embedded opens
# its window under Xvfb, draws the first frame, prints the time it took and exits 0.
smoke_data=$(mktemp -d)
trap 'rm -rf "$smoke_data"' EXIT
xvfb-run -a cargo run -q --locked -p kiosk-app -- \
  run --simulate --data-dir "$smoke_data" --quit-after-first-frame
