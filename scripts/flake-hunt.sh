#!/bin/sh
# Run the test suite (or the given tests) N times, then name every test that failed at least once and in
# how many of the N runs, with each run's pass count. Exits 1 when anything failed.
#
#   sh scripts/flake-hunt.sh N [pytest arguments]
#
# VENV picks the virtual environment (default .venv; an already active one is used as it is).
set -eu
cd "$(dirname "$0")/.."

runs=${1:?usage: flake-hunt.sh N [pytest arguments]}
shift
if [ -z "${VIRTUAL_ENV:-}" ]; then
    . "${VENV:-.venv}/bin/activate"
fi
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT

run=1
while [ "$run" -le "$runs" ]; do
    python -m pytest -q -p no:cacheprovider -o junit_family=xunit1 --junitxml="$reports/$run.xml" "$@" \
        >"$reports/$run.log" 2>&1 || true
    echo "run $run/$runs: $(tail -n 1 "$reports/$run.log")"
    run=$((run + 1))
done

exec python - "$reports" "$runs" <<'EOF'
"""Tally the JUnit reports: failures per test over the runs, and each run's pass count."""
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

reports, runs = Path(sys.argv[1]), int(sys.argv[2])
failed: Counter[str] = Counter()
summary: list[str] = []
broken = False
for run in range(1, runs + 1):
    try:
        root = ET.parse(reports / f"{run}.xml").getroot()
    except (OSError, ET.ParseError):
        summary.append(f"run {run}: no report (pytest did not finish)")
        broken = True
        continue
    passed = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            file, classname = case.get("file", ""), case.get("classname", "")
            module = file.removesuffix(".py").replace("/", ".")
            inner = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
            failed["::".join(part for part in (file, inner, case.get("name", "")) if part)] += 1
        elif case.find("skipped") is None:
            passed += 1
    summary.append(f"run {run}: {passed} passed")

print("\n".join(summary))
for test, count in sorted(failed.items(), key=lambda item: (-item[1], item[0])):
    print(f"failed {count}/{runs} runs: {test}")
if failed or broken:
    sys.exit(1)
print(f"no failures in {runs} runs")
EOF
