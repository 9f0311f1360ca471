"""Check that .ci/lowest-constraints.txt pins every direct dependency at its declared lower bound.

Direct dependencies are pyproject.toml's build-system requires, project
dependencies and the test extra, as they apply to the running Python. Run it
with a Python that has ``packaging`` (the lowest-versions venv has it, through
hatchling). Exits 1 and says which pins are wrong, missing or extra.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / ".ci" / "lowest-constraints.txt"


def declared_floors() -> tuple[dict[str, str], list[str]]:
    """Lower bound of every direct dependency, and the ones that declare none."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = (project["build-system"]["requires"] + project["project"]["dependencies"]
             + project["project"]["optional-dependencies"]["test"])
    floors, unbounded = {}, []
    for line in lines:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate():
            continue
        lows = [spec.version for spec in req.specifier if spec.operator in (">=", "==", "~=")]
        if len(lows) != 1:
            unbounded.append(line)
            continue
        floors[canonicalize_name(req.name)] = lows[0]
    return floors, unbounded


def pinned() -> dict[str, str]:
    """The ``name==version`` lines of the constraints file (caps with other operators are left out)."""
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            specs = list(req.specifier)
            if len(specs) == 1 and specs[0].operator == "==":
                pins[canonicalize_name(req.name)] = specs[0].version
    return pins


def main() -> int:
    floors, unbounded = declared_floors()
    pins = pinned()
    problems = [f"{line!r} declares no single lower bound" for line in unbounded]
    for name, low in sorted(floors.items()):
        if name not in pins:
            problems.append(f"{name}: declared >={low} but not pinned")
        elif Version(pins[name]) != Version(low):
            problems.append(f"{name}: declared >={low} but pinned =={pins[name]}")
    problems += [f"{name}=={pins[name]} is pinned but is no direct dependency (cap it with < instead)"
                 for name in sorted(set(pins) - set(floors))]
    for problem in problems:
        print(f"{CONSTRAINTS.relative_to(ROOT)}: {problem}", file=sys.stderr)
    if not problems:
        print(f"{len(floors)} direct dependencies pinned at their declared lower bounds")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
