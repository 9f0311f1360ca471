"""vcfx-echo: a feedback echo, and an example of a complete third-party vcfx plugin.

vcfx finds this module through the ``[project.entry-points.vcfx]`` table of
``pyproject.toml`` and calls the hook implementations below.
"""

import vcfx

from .echo import Echo

__all__ = ["Echo"]
__version__ = "0.1.0"


@vcfx.hookimpl
def register_effects(register):
    register(Echo)
