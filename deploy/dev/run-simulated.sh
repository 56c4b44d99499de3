#!/usr/bin/env bash
# Command (1) of the README: the kiosk with every device simulated and the platform
# simulator embedded. Installs what is missing, builds, and starts the kiosk in a window.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/dev/packages.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -p kiosk-app
data_dir="${KIOSK_DATA_DIR:-$CARGO_TARGET_DIR/kiosk-sim-data}"
mkdir -p "$data_dir"
exec "$CARGO_TARGET_DIR/release/kiosk" run --simulate --config config/kiosk.toml --data-dir "$data_dir" "$@"
