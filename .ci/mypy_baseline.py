#!/usr/bin/env python3
"""mypy over portal/, models/, graphql_api/, admin_views/ against a baseline that only shrinks.

``mypy-baseline.txt`` holds today's errors as ``path: [code] message`` (no line numbers, so
moving code does not churn it), one per line, repeated as often as the error occurs.

- An error that is not in the baseline (or occurs more often) fails: fix it (new code is
  expected to type-check; the baseline is not a place for it).
- Errors fixed since: passes, and says that ``--update`` can shrink the baseline.
- ``--update`` rewrites the baseline, but only if nothing was added (it never grows).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
LINE = re.compile(r"^(?P<path>[^:]+):\d+(?::\d+)?: error: (?P<msg>.*?)\s*(?:\[(?P<code>[a-z-]+)\])?$")


def current() -> Counter[str]:
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary",
                           "--hide-error-context", "--no-pretty", "--no-color-output"],
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode not in (0, 1):  # 2: mypy itself failed (config, crash)
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"mypy failed (exit {proc.returncode})")
    errors: Counter[str] = Counter()
    for line in proc.stdout.splitlines():
        m = LINE.match(line)
        if m:
            errors[f"{m['path']}: [{m['code'] or 'misc'}] {m['msg']}"] += 1
    return errors


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    return Counter(line for line in BASELINE.read_text().splitlines() if line.strip())


def main() -> int:
    update = "--update" in sys.argv[1:]
    now, base = current(), read_baseline()
    new = now - base
    fixed = base - now
    if new and not (update and not BASELINE.exists()):  # --update creates a missing baseline
        print(f"mypy: {sum(new.values())} error(s) not in mypy-baseline.txt:")
        for key, n in sorted(new.items()):
            print(f"  {key}" + (f"  (x{n})" if n > 1 else ""))
        print("Fix them (run .venv/bin/mypy for line numbers); the baseline only shrinks.")
        return 1
    if update:
        BASELINE.write_text("".join(f"{k}\n" for k in sorted(now.elements())))
        print(f"mypy: baseline now {sum(now.values())} errors (was {sum(base.values())})")
        return 0
    msg = f"mypy: {sum(now.values())} errors, all in the baseline ({sum(base.values())})"
    if fixed:
        msg += (f"; {sum(fixed.values())} fixed since — shrink it: "
                ".venv/bin/python .ci/mypy_baseline.py --update")
    print(msg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
