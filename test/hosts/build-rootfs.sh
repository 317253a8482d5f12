#!/usr/bin/env bash
# Builds the lab's Debian bookworm host image once with debootstrap and caches it as a zstd tarball
# OUTSIDE the repository. Prints the tarball's path on stdout (last line). Rebuilt only when the
# tarball for the current key (hash of packages.txt + this script) is missing.
#   DOCKWARD_LAB_CACHE  cache folder (default /var/cache/dockward-lab)
#   DOCKWARD_LAB_MIRROR Debian mirror (default: the one apt uses on this machine)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${DOCKWARD_LAB_CACHE:-/var/cache/dockward-lab}"
key="$(cat "$here/packages.txt" "$here/build-rootfs.sh" | sha256sum | cut -c1-16)"
out="$cache/bookworm-$key.tar.zst"
if [ -s "$out" ]; then
  echo "$out"
  exit 0
fi
mirror="${DOCKWARD_LAB_MIRROR:-}"
if [ -z "$mirror" ]; then
  # The mirror apt already uses (deb822 "URIs:" or one-line "deb URL bookworm").
  mirror="$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/* /etc/apt/sources.list 2>/dev/null \
    | grep -v -e security -e cloud.google -e nodesource | head -n1 \
    | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*$//' || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"
mkdir -p "$cache"
work="$(mktemp -d "$cache/build.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
root="$work/root"
pkgs="$(grep -vE '^[[:space:]]*(#|$)' "$here/packages.txt" | paste -sd, -)"
echo "lab: debootstrap bookworm from $mirror (${pkgs})" >&2
start=$(date +%s)
debootstrap --variant=minbase --include="$pkgs" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
# A throw-away host: systemd generates its machine-id at boot; docker0 must not take 172.17/16
# (the lab only uses 198.18.0.0/15 and fd00::/8).
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
echo lab-host >"$root/etc/hostname"
mkdir -p "$root/etc/docker"
printf '{\n  "bip": "198.19.255.1/24"\n}\n' >"$root/etc/docker/daemon.json"
# No console login prompts and no network waiting: the lab configures addresses from outside.
chroot "$root" systemctl mask getty@tty1.service console-getty.service systemd-networkd-wait-online.service >/dev/null 2>&1 || true
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log
tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -cf - . | zstd -q -T0 -6 -o "$work/image.tar.zst"
mv "$work/image.tar.zst" "$out"
# Images of earlier package lists are dead weight (~140 MB each).
find "$cache" -maxdepth 1 -name 'bookworm-*.tar.zst' ! -name "$(basename "$out")" -delete
echo "lab: built $out in $(( $(date +%s) - start ))s" >&2
echo "$out"
