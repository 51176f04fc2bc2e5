#!/usr/bin/env bash
# Debian packages the test suite drives: Chromium for the browser tests and Node.js for the
# JavaScript half of the tokenizer vectors.  Safe to run again: it installs only what is missing.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v git >/dev/null 2>&1 || need+=(git)
# Site-quality checks: npm fetches the pinned checkers (scripts/install-quality-tools.sh), Java
# runs the Nu Html Checker, and CJK fonts let axe measure the contrast of Chinese text.
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
