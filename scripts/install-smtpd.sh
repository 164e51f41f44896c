#!/usr/bin/env bash
# Installs a pinned aiosmtpd (Python SMTP server) into <repo>/.tools/smtpd,
# for the black-box digest test: an SMTP server that is not the project's
# own sink. Run it as `PYTHONPATH=.tools/smtpd python3 -m aiosmtpd ...`.
# Idempotent: does nothing when the pinned version is already there.
#
# Environment:
#   AIOSMTPD_VERSION  override the pinned version (default below)
#   TOOLS_DIR         override the install root (default <repo>/.tools)
set -euo pipefail

AIOSMTPD_VERSION="${AIOSMTPD_VERSION:-1.4.6}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${TOOLS_DIR:-$REPO_ROOT/.tools}"
TARGET="$TOOLS_DIR/smtpd"
PYTHON="${PYTHON:-python3}"

installed_version() {
    PYTHONPATH="$TARGET" "$PYTHON" -c 'import aiosmtpd; print(aiosmtpd.__version__)' 2>/dev/null || true
}

if [[ "$(installed_version)" == "$AIOSMTPD_VERSION" ]]; then
    echo "aiosmtpd $AIOSMTPD_VERSION already installed at $TARGET"
    exit 0
fi

mkdir -p "$TOOLS_DIR"
STAGE="$(mktemp -d "$TOOLS_DIR/.smtpd.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
# pip from the system Python, else from the venv install-nats.sh made
# (a fresh Debian may have python3-venv but no python3-pip).
PIP=("$PYTHON" -m pip)
if ! "${PIP[@]}" --version >/dev/null 2>&1 && [[ -x "$TOOLS_DIR/venv/bin/python" ]]; then
    PIP=("$TOOLS_DIR/venv/bin/python" -m pip)
fi
"${PIP[@]}" install --quiet --disable-pip-version-check --no-input --no-cache-dir \
    --target "$STAGE/pkg" "aiosmtpd==$AIOSMTPD_VERSION"
rm -rf "$TARGET"
mv "$STAGE/pkg" "$TARGET"
echo "aiosmtpd $(installed_version) installed at $TARGET"
