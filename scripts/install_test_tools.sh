#!/usr/bin/env bash
# Installs the system tools tests/deploy needs: promtool and prometheus (Debian package
# `prometheus`). kubectl (for `kubectl kustomize`) comes with the machine image; this script
# only reports whether it is there. Quick and silent when everything is installed already.
# Never fails the build: where it cannot install (not root, no apt), it says so and the tests
# that need the tool skip with a message naming it.
set -euo pipefail

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        echo "install_test_tools: cannot install Debian package 'prometheus' (needs root and apt-get);" \
            "the promtool and Prometheus scrape tests will skip" >&2
    else
        echo "install_test_tools: installing Debian package 'prometheus' (promtool, prometheus)"
        export DEBIAN_FRONTEND=noninteractive
        # Only the binaries are used: the packaged service must not start (tests run their own
        # server on 127.0.0.1 with a temporary config), so services are refused while installing.
        policy=/usr/sbin/policy-rc.d
        own_policy=0
        if [[ ! -e $policy ]]; then
            printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
        fi
        if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }; then
            echo "install_test_tools: apt-get could not install 'prometheus'; those tests will skip" >&2
        fi
        if ((own_policy)); then rm -f "$policy"; fi
    fi
fi

if ! kubectl kustomize --help >/dev/null 2>&1; then
    echo "install_test_tools: no 'kubectl' with 'kustomize' on PATH; the overlay build tests will skip" \
        "(each manifest file is still validated on its own)" >&2
fi
exit 0
