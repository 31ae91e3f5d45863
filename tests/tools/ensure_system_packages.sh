#!/bin/sh
# System programs the test suite runs for real (not Python packages: those are in
# requirements.lock). `make test` calls this first. Each line of PACKAGES is
# "command-to-look-for  debian-package"; add a line to need another program
# (chromium, postgresql...). A missing one is installed with apt-get when running as
# root; otherwise this stops with one line saying what to install.
set -eu

PACKAGES='
nginx nginx-light
chromium chromium
'

missing=""
for pair in $(printf '%s' "$PACKAGES" | tr ' ' ':'); do
    cmd=${pair%%:*}
    pkg=${pair##*:}
    [ -n "$cmd" ] || continue
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "make test needs these system packages:$missing. Install them (as root: apt-get install -y$missing) and run make test again." >&2
    exit 1
fi
echo "installing system packages for the tests:$missing" >&2
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; } >/tmp/ensure_system_packages.log 2>&1; then
    echo "could not install$missing with apt-get (see /tmp/ensure_system_packages.log); install them by hand and run make test again." >&2
    exit 1
fi
