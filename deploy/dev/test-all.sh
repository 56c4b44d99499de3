#!/usr/bin/env bash
# Command (2) of the README: the whole test suite. Installs what is missing (Debian packages),
# starts the PC/SC daemon the chip-encoder tests talk to, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/dev/packages.sh
deploy/dev/start-pcscd.sh
cargo test --workspace --locked
