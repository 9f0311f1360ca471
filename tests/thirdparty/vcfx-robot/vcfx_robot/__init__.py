"""A third-party vcfx plugin: ring modulation for a robot voice."""

import numpy as np

import vcfx


class Robot(vcfx.Effect):
    """Multiply the voice by a sine carrier (ring modulation)."""

    name = "robot"
    summary = "Ring-modulate the voice for a robot sound"
    params = (
        vcfx.Param("carrier_hz", float, 50.0, "Carrier frequency", unit="Hz", low=1.0, high=2000.0),
        vcfx.Param("mix", float, 1.0, "Share of the modulated signal", low=0.0, high=1.0),
    )

    def process_waveform(self, audio, ctx):
        t = np.arange(audio.frames) / audio.sample_rate
        carrier = np.sin(2 * np.pi * self.carrier_hz * t)
        out = (1 - self.mix) * audio.samples + self.mix * audio.samples * carrier
        return audio.replace(samples=out)


@vcfx.hookimpl
def register_effects(register):
    register(Robot)
