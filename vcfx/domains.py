"""Processing domains: a representation that a run of effects shares."""

from __future__ import annotations

from typing import Any, ClassVar

from .audio import Audio
from .effect import Context, Effect, LiveProcessor
from .errors import StreamError

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

    def live(self, effects: list[Effect], contexts: list[Context], sample_rate: int, channels: int,
             block_frames: int, ctx: Context) -> LiveProcessor:
        """A :class:`~vcfx.effect.LiveProcessor` running ``effects`` (one run of this domain) on a live stream.

        ``contexts`` holds each effect's own context, ``ctx`` the run's (its
        ``options`` are this domain's options). A domain that can stream
        overrides this; the default refuses with a :class:`vcfx.StreamError`
        saying why, which :class:`vcfx.Stream` turns into a message naming
        the effects.
        """
        raise StreamError(f'the "{self.name}" domain has no live processor: it analyses the whole input at once')

    def can_stream(self) -> bool:
        """Whether this domain overrides :meth:`live` (so :class:`vcfx.Stream` may choose it as the engine)."""
        return type(self).live is not Domain.live
