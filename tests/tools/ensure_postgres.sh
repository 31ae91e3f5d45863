#!/bin/sh
# make test needs PostgreSQL's initdb and pg_ctl (tests/pg_server.py starts a private
# server). Where they are missing, install Debian's postgresql package, as root.
set -e
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then exit 0; fi
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL is missing: installing Debian's postgresql package for the tests"
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; then
        exit 0
    fi
fi
echo "make test needs PostgreSQL 15 or later (initdb and pg_ctl) and could not install it." >&2
echo "Install it (Debian/Ubuntu: sudo apt-get install postgresql), then run make test again." >&2
exit 1
