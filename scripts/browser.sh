#!/usr/bin/env bash
# Makes sure Debian's headless Chromium (browser tests) and poppler-utils (PDF pages to PNG) are there, and
# axe-core (the accessibility checks the browser tests inject into every page) as package-lock.json pins it.
set -euo pipefail
cd "$(dirname "$0")/.."
axe() {
  if ! command -v npm >/dev/null; then
    echo "npm is missing: install Debian's npm package for the browser tests' accessibility checks." >&2
    return 1
  fi
  local pinned installed
  pinned=$(node -p "require('./package-lock.json').packages['node_modules/axe-core'].version")
  installed=$(node -p "require('./node_modules/axe-core/package.json').version" 2>/dev/null || true)
  [ "$pinned" = "$installed" ] && [ -f node_modules/axe-core/axe.min.js ] && return 0
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
}
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then axe; exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} from Debian's packages..."
  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif [[ " ${missing[*]} " == *" chromium "* ]]; then
  echo "Chromium is missing: install Debian's chromium package for the browser tests." >&2
  exit 1
else
  echo "poppler-utils is missing: the handover PDF test renders no PNG pages until it is installed." >&2
fi
axe
