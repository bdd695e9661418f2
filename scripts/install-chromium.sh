#!/bin/sh
# Debian's Chromium and ChromeDriver for the browser test (Playwright drives /usr/bin/chromium; it never
# downloads a browser of its own). Installs only when missing, and only as root; otherwise says what to do.
set -eu

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Chromium is missing and the browser test needs it: run 'sudo apt-get install chromium chromium-driver'" >&2
    exit 0  # the browser test then fails and says the same
fi
echo "installing Debian's chromium and chromium-driver for the browser test..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium chromium-driver >/dev/null
