#!/usr/bin/env bash
# The Debian packages `make test` needs: PostgreSQL, Redis, Chromium and its driver (browser
# tests; fonts-wqy-microhei so screenshots show Chinese), gettext (compilemessages), nginx (the two-node topology), and python3-venv when the
# interpreter cannot make a venv. Run as root it installs what is missing (apt-get update once);
# otherwise it names the one command to run and fails. Not Debian (no dpkg): nothing to do here,
# scripts/ensure-services.sh then says what is missing.
set -euo pipefail
command -v dpkg >/dev/null 2>&1 || exit 0
python=${PYTHON:-python3}

need=()
for pkg in postgresql redis-server chromium chromium-driver fonts-wqy-microhei gettext nginx openssl curl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ! "$python" -c "import ensurepip" >/dev/null 2>&1 && ! dpkg -s python3-venv >/dev/null 2>&1; then
  need+=(python3-venv)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "make test: missing Debian packages: ${need[*]}" >&2
  echo "  run: sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
# A freshly installed nginx starts a default site on port 80: the tests start their own.
if printf '%s\n' "${need[@]}" | grep -qx nginx; then
  (command -v systemctl >/dev/null && systemctl stop nginx 2>/dev/null) || nginx -s quit 2>/dev/null || true
fi
