#!/usr/bin/env bash
# Installs the Debian packages the test suite uses for real, when they are missing:
#   git            sources, smart HTTP (git-http-backend)
#   openssh-server fetch over SSH against a loopback sshd
#   chromium       Sandbox flows through playwright-core
#   redis-server   BullMQ job queue tests (they start their own server)
# Run by `npm test` (pretest) and so by CI. Needs root or sudo when something is missing.
set -euo pipefail
need=()
command -v git >/dev/null || need+=(git)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v redis-server >/dev/null || need+=(redis-server)
[ ${#need[@]} -eq 0 ] && exit 0
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    as_root=(sudo)
  else
    echo "the tests need these Debian packages: ${need[*]} (install them as root: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
echo "installing Debian packages for the tests: ${need[*]}" >&2
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
