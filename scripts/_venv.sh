# Sourced by scripts/demo and scripts/test: make sure .venv exists and holds this checkout's
# dependencies (reinstalled whenever pyproject.toml changes).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
extras="${CLASSLOG_EXTRAS:-server}"
stamp="$venv/.classlog-installed"
want="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1) $extras"

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "classlog needs Python 3.11 or newer" >&2
  return 1
}

if [ ! -x "$venv/bin/python" ]; then
  echo "setting up $venv (first run only)..." >&2
  "$(pick_python)" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[$extras]" >&2
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
