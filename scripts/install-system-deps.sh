#!/usr/bin/env bash
# Installs the Debian packages the test suite and tools need, only the ones that are missing.
# Idempotent and quick when everything is present; run by `make test` and friends.
# `--container` adds what `make container-test` needs to build and run the image.
set -euo pipefail

# package -> why we need it
PACKAGES=(
  faketime       # libfaketime: runs clients in other languages on the mock's accelerated clock
  poppler-utils  # pdftotext/pdftoppm: tests read the generated PDFs back
  nodejs         # runs the documented JavaScript waitForReport client
  chromium       # the inspector page's browser test runs in real headless Chromium
  chromium-driver  # chromedriver, through which selenium drives that Chromium
  redis-server   # the Redis store's tests run against a real server the tests start on loopback
  wrk            # `make bench`: HTTP load on loopback for the side-by-side throughput table
  fonts-dejavu-core  # DejaVu Sans: report charts, and PDFs whose text is beyond Latin-1
  gcc            # builds the kit's native helpers: the preload library and the syscall tracer
  libc6-dev      # their headers (linux/seccomp.h, sys/ptrace.h), and the static libc of test binaries
  curl           # the bash+curl command clients (virtual-clock tests, the client corpus)
  golang-go      # Go clients: the tests build Go polling clients and run them under the tracer
  jq             # the client corpus's bash polling client reads the JSON envelope with jq
)
if [ "${1:-}" = "--container" ]; then
  PACKAGES+=(
    podman       # `make container-test` builds and runs the image (podman 4.3 in bookworm)
    runc         # the OCI runtime it runs with: crun refuses the cgroup layout of these machines
    debootstrap  # makes the local Debian base image where no image registry is reachable
  )
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# nodejs may come from outside Debian (the image ships /usr/bin/node): accept any node on PATH.
if command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}")
fi
to_install=()
for pkg in "${missing[@]}"; do [ -n "$pkg" ] && to_install+=("$pkg"); done
if [ "${#to_install[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "Installing Debian packages: ${to_install[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${to_install[@]}" >/dev/null
