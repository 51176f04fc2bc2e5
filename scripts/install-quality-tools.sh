#!/usr/bin/env bash
# The checkers the site-quality tests run, from the npm registry at the exact versions pinned
# in scripts/quality-tools/package-lock.json (integrity hashes included):
#   vnu-jar   the Nu Html Checker (run with Java: java -jar .../vnu.jar)
#   axe-core  the accessibility engine the browser tests inject into each page
# They go into .cache/npm/ (git-ignored).  Safe to run again: it does nothing when the installed
# lockfile matches the pinned one.  vnu-jar's postinstall (which would fetch a Java runtime) is
# skipped: Debian's Java from install-system-deps.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
src=scripts/quality-tools
dest=.cache/npm
jar="$dest/node_modules/vnu-jar/build/dist/vnu.jar"
axe="$dest/node_modules/axe-core/axe.min.js"

if [ -f "$jar" ] && [ -f "$axe" ] && cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm is missing: run scripts/install-system-deps.sh" >&2; exit 1; }
echo "installing quality tools into $dest: $(tr -d '\n ' <"$src/package.json" | grep -o '"dependencies":{[^}]*}')"
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
npm ci --prefix "$dest" --ignore-scripts --no-audit --no-fund --loglevel=error
test -f "$jar" && test -f "$axe"
