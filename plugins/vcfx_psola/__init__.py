"""PSOLA domain: pitch and time changes by pitch-synchronous overlap-add of the waveform.

A PSOLA effect of another package needs only the names exported here and
``vcfx`` (see the "PSOLA domain" page of the documentation).
"""

import vcfx

from .domain import PsolaDomain
from .state import PsolaState

__all__ = ["PsolaDomain", "PsolaState"]


@vcfx.hookimpl
def register_domains(register):
    register(PsolaDomain())
