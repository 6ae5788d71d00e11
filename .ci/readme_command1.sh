#!/usr/bin/env bash
# CI step: README command 1, verbatim, on a fresh virtual environment.
#
# Extracts command 1 from the first ```bash block of README.md (so the two cannot drift), swaps
# only the preset config/quick.yaml for tests/config/tiny.yaml, and runs it with a new venv's
# pip/python/snakemake first on PATH (no system site packages), in a scratch copy of the working
# tree (so the repository's results/ stays untouched). Then .ci/check_report.py checks that the
# report exists and embeds every figure and table the workflow plans.
#
# Usage: .ci/readme_command1.sh [SCRATCH_DIR]   (default: a new temporary folder, removed on
# success; kept on failure for inspection). KEEP_SCRATCH=1 keeps it always.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${1:-$(mktemp -d -t ddmdyn-readme1.XXXXXX)}"
mkdir -p "$scratch"
start=$(date +%s)

command1="$(python3 "$repo/.ci/readme_commands.py" --command 1 --preset tests/config/tiny.yaml \
  "$repo/README.md")"
echo "README command 1 with the tiny preset:"
echo "  $command1"

echo "== scratch copy of the working tree (tracked and untracked, not ignored) in $scratch/src"
mkdir -p "$scratch/src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
  | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
  | tar --null -T - -cf -) | tar -xf - -C "$scratch/src"
if [ -d "$scratch/src/results" ]; then
  echo "the scratch copy has a results/ folder: it must start without one"; exit 1
fi

echo "== fresh virtual environment (no system site packages) in $scratch/venv"
python3 -m venv "$scratch/venv"
# nothing from the CI machine's Python may leak in: only the venv's bin/ first on PATH
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV
export PYTHONNOUSERSITE=1 PATH="$scratch/venv/bin:$PATH"
if [ "$(command -v pip)" != "$scratch/venv/bin/pip" ]; then
  echo "pip is $(command -v pip), not the fresh venv's"; exit 1
fi

echo "== README command 1"
status=0
(cd "$scratch/src" && bash -eo pipefail -c "$command1") || status=$?
run_s=$(( $(date +%s) - start ))
if [ "$status" != 0 ]; then
  echo "README command 1 failed (exit $status) after ${run_s} s; scratch kept in $scratch"
  exit "$status"
fi

echo "== the report embeds every figure and table"
if ! "$scratch/venv/bin/python" "$repo/.ci/check_report.py" "$scratch/src/results/report.html" \
  --workdir "$scratch/src" --configfile tests/config/tiny.yaml; then
  echo "report check failed; scratch kept in $scratch"; exit 1
fi
echo "== README command 1 (tiny preset, fresh venv) passed in $(( $(date +%s) - start )) s"
if [ -z "${1:-}" ] && [ -z "${KEEP_SCRATCH:-}" ]; then
  rm -rf "$scratch"
fi
