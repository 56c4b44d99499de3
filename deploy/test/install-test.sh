#!/usr/bin/env bash
# The install test: build the kiosk's .deb, install it with apt into a clean Debian 12 root
# made by debootstrap (minbase), and check that everything lands where deploy/README.md says.
#
#   sudo deploy/test/install-test.sh                 # package the debug build (cheap, see below)
#   sudo deploy/test/install-test.sh --release       # package a release build (cargo deb)
#   sudo deploy/test/install-test.sh --deb FILE.deb  # test a package built elsewhere
#   options: --keep (leave the root for a look), --with-cage (also install cage + seatd and
#            verify the unit with the cage drop-in), --root DIR (default: a fresh temp dir)
#
# Needs root (debootstrap, chroot), debootstrap, cargo-deb and Debian's mirror (MIRROR=…,
# default http://deb.debian.org/debian). Downloads are cached in $CACHE (default
# /var/cache/kiosk-install-test) so a second run fetches nothing.
#
# The default packages the debug binary the test suite has already built (`cargo deb
# --profile dev --no-build`): cargo-deb warns that it wants release builds, but what is tested
# here is the packaging, not the optimiser, and a release build of the kiosk takes many
# minutes on 2 cores.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mirror=${MIRROR:-http://deb.debian.org/debian}
cache=${CACHE:-/var/cache/kiosk-install-test}
suite=bookworm
profile=dev
deb=""
out=""
keep=0
with_cage=0
root=""

while [ $# -gt 0 ]; do
    case "$1" in
    --release) profile=release ;;
    --deb) deb=$(realpath "$2"); shift ;;
    --keep) keep=1 ;;
    --with-cage) with_cage=1 ;;
    --root) root=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "$(id -u)" -ne 0 ]; then
    echo "install-test: run as root (debootstrap and chroot need it)" >&2
    exit 2
fi
for tool in debootstrap chroot; do
    command -v "$tool" >/dev/null || { echo "install-test: $tool is missing (deploy/dev/packages.sh)" >&2; exit 2; }
done

started=$(date +%s)
step() { printf '\n== [%4ss] %s\n' "$(($(date +%s) - started))" "$*"; }
failures=0
check() { # check DESCRIPTION COMMAND...: runs the command, records a failure
    local what=$1; shift
    if "$@" >/tmp/kiosk-install-check.$$ 2>&1; then
        printf '   ok    %s\n' "$what"
    else
        printf '   FAIL  %s\n' "$what"; sed 's/^/         /' /tmp/kiosk-install-check.$$
        failures=$((failures + 1))
    fi
}

# ---------------------------------------------------------------------------------------------
if [ -z "$deb" ]; then
    command -v cargo-deb >/dev/null || { echo "install-test: cargo-deb is missing: cargo install cargo-deb --locked" >&2; exit 2; }
    out=$(mktemp -d /tmp/kiosk-deb.XXXXXX)
    if [ "$profile" = release ]; then
        step "building the package: cargo deb -p kiosk-app (release)"
        (cd "$repo" && cargo deb -p kiosk-app --output "$out")
    else
        step "building the package from the debug binary: cargo deb -p kiosk-app --profile dev --no-build"
        (cd "$repo" && cargo build -p kiosk-app --bin kiosk && cargo deb -p kiosk-app --profile dev --no-build --no-dbgsym --strip --no-compress-debug-symbols --fast --output "$out")
    fi
    deb=$(ls "$out"/kiosk-app_*.deb)
fi
echo "package: $deb ($(du -h "$deb" | cut -f1))"

# ---------------------------------------------------------------------------------------------
if [ -z "$root" ]; then root=$(mktemp -d /tmp/kiosk-root.XXXXXX); fi
mkdir -p "$root"; chmod 755 "$root"   # the kiosk user must reach / inside it
mounted=()
cleanup() {
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
    if [ "$keep" -eq 0 ]; then rm -rf "$root" "${out:-}"; else echo "root kept in $root, package in ${out:-$(dirname "$deb")}"; fi
}
trap cleanup EXIT

step "debootstrap --variant=minbase $suite into $root"
mkdir -p "$cache/debootstrap" "$cache/apt"
debootstrap --variant=minbase --cache-dir="$cache/debootstrap" "$suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 \
    || { tail -n 30 "$root.debootstrap.log"; exit 1; }
rm -f "$root.debootstrap.log"

mount -t proc proc "$root/proc"; mounted+=("$root/proc")
mount -t sysfs sysfs "$root/sys"; mounted+=("$root/sys")
mount --bind "$cache/apt" "$root/var/cache/apt/archives"; mounted+=("$root/var/cache/apt/archives")
# No service may start inside the root.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

step "apt-get install ./$(basename "$deb") (with its dependencies, no recommends)"
cp "$deb" "$root/tmp/"
extra=(sudo)   # only to check the sudoers file with visudo
if [ "$with_cage" -eq 1 ]; then extra+=(cage seatd); fi
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" "${extra[@]}" >"$root/tmp/apt.log" 2>&1 \
    || { tail -n 40 "$root/tmp/apt.log"; exit 1; }
echo "installed size of the root: $(du -sh --exclude=proc --exclude=sys "$root" 2>/dev/null | cut -f1)"

# ---------------------------------------------------------------------------------------------
step "checks"
units=(kiosk.service kiosk-restart.service kiosk-restart.timer)

check "the kiosk user has no login shell and lives in /var/lib/kiosk" \
    sh -c "in_passwd=\$(chroot '$root' getent passwd kiosk) && echo \"\$in_passwd\" | grep -q ':/var/lib/kiosk:/usr/sbin/nologin\$'"
for g in dialout plugdev lp scanner input video render; do
    check "kiosk is in group $g" sh -c "chroot '$root' id -nG kiosk | tr ' ' '\n' | grep -qx $g"
done
check "the kiosk-maint group exists" chroot "$root" getent group kiosk-maint
check "/var/lib/kiosk is 0700 kiosk:kiosk" sh -c "[ \"\$(chroot '$root' stat -c '%a %U %G' /var/lib/kiosk)\" = '700 kiosk kiosk' ]"

for f in /usr/bin/kiosk /etc/kiosk/kiosk.toml /etc/kiosk/kiosk.env /etc/kiosk/catalogue/catalogue.toml \
    /etc/kiosk/calendar/2026.toml /usr/share/kiosk/resources/sim/idcard/resident_han.json \
    /usr/share/kiosk/resources/sane/dll.conf /usr/share/kiosk/display/cage.conf \
    /usr/share/kiosk/udev/71-kiosk-site.rules /usr/lib/udev/rules.d/70-kiosk.rules \
    /usr/lib/sysusers.d/kiosk.conf /usr/lib/tmpfiles.d/kiosk.conf /usr/lib/sysctl.d/50-kiosk.conf \
    /usr/lib/systemd/logind.conf.d/kiosk.conf /usr/lib/systemd/journald.conf.d/kiosk.conf \
    /usr/share/doc/kiosk-app/README.md; do
    check "file $f" test -f "$root$f"
done
for u in "${units[@]}"; do check "unit $u" test -f "$root/usr/lib/systemd/system/$u"; done
check "/etc/kiosk files are conffiles" sh -c "chroot '$root' dpkg-query --control-show kiosk-app conffiles | grep -q '^/etc/kiosk/kiosk.toml\$'"
check "/etc/sudoers.d/kiosk is 0440 and parses" sh -c "[ \"\$(stat -c %a '$root/etc/sudoers.d/kiosk')\" = 440 ] && chroot '$root' visudo -c -q -f /etc/sudoers.d/kiosk"
check "no library of /usr/bin/kiosk is missing" sh -c "! chroot '$root' ldd /usr/bin/kiosk | grep 'not found'"

check "kiosk.service is enabled" systemctl --root="$root" is-enabled kiosk.service
check "kiosk-restart.timer is enabled" systemctl --root="$root" is-enabled kiosk-restart.timer
for u in getty@tty1.service autovt@.service ctrl-alt-del.target; do
    check "$u is masked" sh -c "[ \"\$(readlink '$root/etc/systemd/system/$u')\" = /dev/null ]"
done

verify() { # systemd-analyze verify inside the root: any message about our units fails
    chroot "$root" env SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$@" >"$root/tmp/verify.log" 2>&1 || true
    cat "$root/tmp/verify.log"
    ! grep -v -E '^$' "$root/tmp/verify.log" | grep -q .
}
check "systemd-analyze verify accepts the units" verify "${units[@]/#//usr/lib/systemd/system/}"
if [ "$with_cage" -eq 1 ]; then
    mkdir -p "$root/etc/systemd/system/kiosk.service.d"
    ln -s /usr/share/kiosk/display/cage.conf "$root/etc/systemd/system/kiosk.service.d/display.conf"
    check "systemd-analyze verify accepts kiosk.service with the cage drop-in" verify kiosk.service
    rm -r "$root/etc/systemd/system/kiosk.service.d"
fi
udev_problems() { # udevadm test reads every rules file and reports "FILE:LINE problem"
    chroot "$root" udevadm test --action=add /devices/virtual/mem/null 2>&1 | grep -E 'kiosk[^ ]*\.rules:[0-9]+' || true
}
udev_clean() { local p; p=$(udev_problems); echo "$p"; [ -z "$p" ]; }
check "udev reads 70-kiosk.rules without a complaint" udev_clean
# The site template with every example switched on must parse too.
mkdir -p "$root/etc/udev/rules.d"
sed -E 's/^#(SUBSYSTEM|ATTR|ENV|KERNEL)/\1/' "$root/usr/share/kiosk/udev/71-kiosk-site.rules" >"$root/etc/udev/rules.d/71-kiosk-site.rules"
check "udev reads the site template with all examples on" udev_clean
rm "$root/etc/udev/rules.d/71-kiosk-site.rules"

# Hardening does not silently erode: systemd's own exposure score (0 best, 10 worst).
check "systemd-analyze security: kiosk.service exposure at most 3.0" \
    chroot "$root" systemd-analyze security --offline=yes --threshold=30 /usr/lib/systemd/system/kiosk.service
chroot "$root" systemd-analyze security --offline=yes /usr/lib/systemd/system/kiosk.service 2>/dev/null | tail -n 1 | sed 's/^/         /'

# Maintenance staff get exactly the whitelisted commands.
chroot "$root" useradd --create-home --groups kiosk-maint,systemd-journal tech1
check "kiosk-maint may run kiosk audit verify as kiosk" \
    chroot "$root" sudo -n -l -U tech1 -u kiosk /usr/bin/kiosk audit verify --config /etc/kiosk/kiosk.toml
check "kiosk-maint may restart the kiosk" chroot "$root" sudo -n -l -U tech1 /usr/bin/systemctl restart kiosk
check "kiosk-maint may not run a shell as root" sh -c "! chroot '$root' sudo -n -l -U tech1 /bin/sh"
check "kiosk-maint may not run journalctl (a pager) as root" sh -c "! chroot '$root' sudo -n -l -U tech1 /usr/bin/journalctl"

check "kiosk check --config /etc/kiosk/kiosk.toml passes (as kiosk)" \
    chroot --userspec=kiosk:kiosk "$root" env -i HOME=/var/lib/kiosk /usr/bin/kiosk check --config /etc/kiosk/kiosk.toml
check "kiosk audit verify opens the store in /var/lib/kiosk (as kiosk)" \
    chroot --userspec=kiosk:kiosk "$root" env -i HOME=/var/lib/kiosk /usr/bin/kiosk audit verify --config /etc/kiosk/kiosk.toml
check "kiosk outbox status (as kiosk)" \
    chroot --userspec=kiosk:kiosk "$root" env -i HOME=/var/lib/kiosk /usr/bin/kiosk outbox status --config /etc/kiosk/kiosk.toml
# `kiosk run` as the unit starts it, minus the display (there is none here): it must get as far
# as a fully assembled kiosk (store, platform client with its TLS roots, simulated devices with
# the resources in /usr/share/kiosk, SANE's test backend) before the UI fails to find a screen.
assembles() {
    chroot --userspec=kiosk:kiosk "$root" env -i HOME=/var/lib/kiosk XDG_RUNTIME_DIR=/tmp \
        SLINT_BACKEND=linuxkms-software timeout 60 /usr/bin/kiosk run --config /etc/kiosk/kiosk.toml >"$root/tmp/run.log" 2>&1 || true
    tail -n 5 "$root/tmp/run.log"
    grep -q 'kiosk assembled' "$root/tmp/run.log"
}
check "kiosk run assembles the kiosk as user kiosk (no display here)" assembles

step "removal: apt-get purge kiosk-app"
in_root apt-get purge -y -qq kiosk-app >"$root/tmp/purge.log" 2>&1 || { tail -n 20 "$root/tmp/purge.log"; failures=$((failures + 1)); }
check "getty@tty1 is unmasked again" test ! -e "$root/etc/systemd/system/getty@tty1.service"
check "the kiosk's state survives a purge" test -d "$root/var/lib/kiosk"
check "the binary is gone" test ! -e "$root/usr/bin/kiosk"

step "done: $failures failure(s)"
[ "$failures" -eq 0 ]
