"""Processing domains: a representation that a run of effects shares."""

from __future__ import annotations

from typing import Any, ClassVar

from .audio import Audio
from .effect import Context

__all__ = ["Domain"]


class Domain:
    """A representation of audio that consecutive effects can share.

    The chain converts into a domain once (:meth:`analyze`), lets every
    effect of the run transform the state, and converts back once
    (:meth:`synthesize`). Register an instance through the
    ``register_domains`` hook.
    """

    name: ClassVar[str] = ""

    def analyze(self, audio: Audio, ctx: Context) -> Any:
        """Convert Audio into this domain's state."""
        raise NotImplementedError

    def synthesize(self, state: Any, ctx: Context) -> Audio:
        """Convert state back into Audio."""
        raise NotImplementedError

    def min_frames(self, sample_rate: int) -> int:
        """Shortest input :meth:`analyze` handles."""
        return 1

    def check_options(self, ctx: Context) -> None:
        """Raise ParameterError when the chain's options for this domain are wrong."""
