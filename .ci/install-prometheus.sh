#!/bin/sh
# Install Prometheus (prometheus, promtool) and Alertmanager (prometheus-alertmanager,
# amtool) from Debian packages for the alert and dashboard tests in tests/alerts/.
# Idempotent: does nothing when the binaries are already installed. The packages'
# services are never started (the tests start their own processes on 127.0.0.1).
set -eu

need=""
for bin in prometheus promtool prometheus-alertmanager amtool; do
    command -v "$bin" >/dev/null 2>&1 || need="yes"
done
if [ -z "$need" ]; then
    echo "install-prometheus: already installed: $(prometheus --version 2>&1 | head -n 1)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends prometheus prometheus-alertmanager

for bin in prometheus promtool prometheus-alertmanager amtool; do
    command -v "$bin" >/dev/null 2>&1 || { echo "install-prometheus: $bin missing after install" >&2; exit 1; }
done
echo "install-prometheus: $(prometheus --version 2>&1 | head -n 1)"
echo "install-prometheus: $(prometheus-alertmanager --version 2>&1 | head -n 1)"
