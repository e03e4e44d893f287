#!/usr/bin/env bash
# Makes sure Debian's headless Chromium (browser tests) and poppler-utils (PDF pages to PNG) are there.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} from Debian's packages..."
  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif [[ " ${missing[*]} " == *" chromium "* ]]; then
  echo "Chromium is missing: install Debian's chromium package for the browser tests." >&2
  exit 1
else
  echo "poppler-utils is missing: the handover PDF test renders no PNG pages until it is installed." >&2
fi
