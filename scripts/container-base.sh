#!/usr/bin/env bash
# Makes a local Debian bookworm base image for the Dockerfile, for machines that reach the Debian
# mirror but no image registry:
#   debootstrap --variant=minbase bookworm  (from the mirror this machine's apt uses)
#   -> trimmed like Debian's -slim images (no docs, man pages or translations)
#   -> podman import  as  $BASE_IMAGE (default localhost/debian-minbase:bookworm)
# Then: podman build --build-arg BASE_IMAGE=localhost/debian-minbase:bookworm ...
#
# The image is the cache: when it exists this does nothing (about 0.1 s); `--refresh` makes it
# again (about 40 s plus the download). Needs root, debootstrap and podman
# (bash scripts/install-system-deps.sh --container installs them).
set -euo pipefail

BASE_IMAGE=${BASE_IMAGE:-localhost/debian-minbase:bookworm}
SUITE=bookworm
refresh=false
case "${1:-}" in
  --refresh) refresh=true ;;
  "") ;;
  *) echo "usage: $0 [--refresh]   (makes $BASE_IMAGE unless it exists)" >&2; exit 2 ;;
esac

if ! $refresh && podman image exists "$BASE_IMAGE"; then
  echo "base image $BASE_IMAGE: reused (scripts/container-base.sh --refresh makes it again)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "debootstrap needs root: run this as root (or with sudo)" >&2
  exit 1
fi

# The mirror apt already uses here, as apt itself reports it (one-line and deb822 sources alike).
mirror_of() {
  apt-cache policy 2>/dev/null | awk -v suite="$1" '$3 == suite "/main" { print $2; exit }'
}
mirror=$(mirror_of "$SUITE")
mirror=${mirror:-http://deb.debian.org/debian}
security=$(mirror_of "$SUITE-security")
security=${security:-http://deb.debian.org/debian-security}

workdir=$(mktemp -d /var/tmp/reports-mock-base.XXXXXX)
trap 'rm -rf "$workdir"' EXIT
rootfs=$workdir/rootfs
started=$SECONDS
echo "debootstrap --variant=minbase $SUITE from $mirror ..."
if ! debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$workdir/debootstrap.log" 2>&1; then
  tail -20 "$workdir/debootstrap.log" >&2
  echo "debootstrap failed (log above): check that $mirror answers" >&2
  exit 1
fi

# The image's apt uses the same mirror, with the point-release updates and security updates.
cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror $SUITE main
deb $mirror $SUITE-updates main
deb $security $SUITE-security main
EOF
# Like Debian's -slim images: dpkg leaves out documentation, and what debootstrap put there goes.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
rm -f "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*

tar --numeric-owner -C "$rootfs" -c . | podman import --quiet \
  --change 'CMD ["/bin/bash"]' \
  --change "LABEL org.opencontainers.image.source=debootstrap-minbase-$SUITE" \
  --change "LABEL org.opencontainers.image.url=$mirror" \
  - "$BASE_IMAGE" >/dev/null
echo "base image $BASE_IMAGE: made in $((SECONDS - started)) s from $mirror"
