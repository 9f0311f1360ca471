"""voice_changer: the voice-converter study's one-call transformation, as a chain."""

from __future__ import annotations

import os

import vcfx


def voice_changer(pitch: float = 1.2, pitch_var: float = 0.5, tempo: float = 0.7, change: bool = False,
                  noise: float = 0.01, reverb: bool | str | os.PathLike = False, seed: int | None = None) -> vcfx.Chain:
    """The study's ``voice_changer`` as a :class:`vcfx.Chain` of registered effects.

    The order is the study's: ``pitch_variance -> pitch_shift -> tempo``
    (or ``speed``) ``-> noise -> reverb``. The defaults reproduce its call
    ``voice_changer(pitch=1.2, pitch_var=0.5, tempo=0.7, change=False,
    noise=0.01, reverb=False)``, without its defects: semitones are a
    factor of ``2 ** (pitch / 12)`` (not ``1 + pitch / 12``), the noise is
    seeded and as long as the voice, and the pace is Rubber Band or WORLD
    instead of SoX. ``pitch_variance``, ``pitch_shift`` and ``tempo`` share
    one analysis and synthesis, in PSOLA for a shift of at least -7
    semitones and in WORLD below (``Chain(..., engine=...)`` chooses);
    ``speed`` resamples the waveform.

    Parameters
    ----------
    pitch : float
        Pitch change in semitones (``pitch_shift``).
    pitch_var : float
        Factor on the spread of pitch around its mean (``pitch_variance``).
    tempo : float
        Pace; above 1 is faster.
    change : bool
        Use ``speed`` (pitch follows the pace, like a tape) instead of ``tempo``.
    noise : float
        Standard deviation of the added white noise, in absolute units as
        in the study (``noise`` effect, ``amount``); 0 adds none.
    reverb : bool or path
        ``True`` for the synthetic room (``reverb`` effect defaults), a path
        for an impulse response file, ``False`` for none.
    seed : int, optional
        Seed of the chain, for reproducible noise.

    Returns
    -------
    vcfx.Chain
    """
    effects = [
        vcfx.effect("pitch_variance", factor=pitch_var),
        vcfx.effect("pitch_shift", semitones=pitch),
        vcfx.effect("speed" if change else "tempo", rate=tempo),
    ]
    if noise:
        effects.append(vcfx.effect("noise", amount=noise))
    if isinstance(reverb, (str, os.PathLike)):
        effects.append(vcfx.effect("reverb", ir=os.fspath(reverb)))
    elif reverb:
        effects.append(vcfx.effect("reverb"))
    return vcfx.Chain(effects, seed=seed)
