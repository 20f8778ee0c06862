#!/usr/bin/env bash
# Installs the system libraries votestore itself needs: libdecaf (Debian/Ubuntu package libdecaf0),
# the ristretto255 library behind votestore/crypto/decaf.py. Quick and silent when it is there.
# Fails with a message saying what to do where it cannot install (not root, no apt-get).
set -euo pipefail

have_libdecaf() {
    if [[ -n ${VOTESTORE_LIBDECAF:-} && -e ${VOTESTORE_LIBDECAF} ]]; then return 0; fi
    ldconfig -p 2>/dev/null | grep -q 'libdecaf\.so\.0'
}

if have_libdecaf; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install_system_deps: votestore needs libdecaf: install the package libdecaf0 as root" \
        "(Debian 12+, Ubuntu 22.04+: apt-get install libdecaf0), or set VOTESTORE_LIBDECAF to" \
        "the path of libdecaf.so.0" >&2
    exit 1
fi
echo "install_system_deps: installing Debian package 'libdecaf0'"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends libdecaf0 >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends libdecaf0 >/dev/null
fi
have_libdecaf || { echo "install_system_deps: libdecaf0 installed but libdecaf.so.0 not found" >&2; exit 1; }
