#!/usr/bin/env bash
# Installs the system tools tests/deploy needs: promtool and prometheus (Debian package
# `prometheus`) and kubectl with its built-in kustomize (the machine image's kubectl; where there
# is none, Debian's `kubernetes-client`), and Debian's Chromium for the voter page's browser tests
# (tests/web/browser: Playwright drives /usr/bin/chromium; no browser is ever downloaded) with
# Debian's Noto CJK fonts beside it, so the Korean pages render as glyphs in the screenshots, not
# boxes (web/src/app/app.css names "Noto Sans CJK KR"). Quick and silent when everything is
# installed already.
# Fails, naming the package and what to do, when a tool is missing and cannot be installed: the
# deploy tests then fail rather than skip, so a green run has checked the manifests and alerts.
set -euo pipefail

fail() {
    echo "install_test_tools: error: $*" >&2
    exit 1
}

apt_install() {
    local package=$1
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        fail "cannot install Debian package '$package' (needs root and apt-get): install it, then run make test again"
    fi
    echo "install_test_tools: installing Debian package '$package'"
    export DEBIAN_FRONTEND=noninteractive
    # Only the binaries are used: a packaged service must not start (tests run their own
    # server on 127.0.0.1 with a temporary config), so services are refused while installing.
    local policy=/usr/sbin/policy-rc.d own_policy=0 status=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
    fi
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$package" >/dev/null; } || status=$?
    if ((own_policy)); then rm -f "$policy"; fi
    ((status == 0)) || fail "apt-get could not install '$package' (exit $status)"
}

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
    apt_install prometheus
fi
if ! command -v kubectl >/dev/null 2>&1; then
    apt_install kubernetes-client
fi
if [[ ! -x /usr/bin/chromium ]]; then
    apt_install chromium
fi
if ! dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'install ok installed'; then
    apt_install fonts-noto-cjk
fi
kubectl kustomize --help >/dev/null 2>&1 ||
    fail "'kubectl' on PATH has no 'kustomize' subcommand: install a kubectl of 1.14 or later"
exit 0
