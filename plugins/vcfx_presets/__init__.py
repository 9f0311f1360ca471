"""Named chains, such as the voice-converter study's voice_changer."""

import vcfx

from .voice_changer import voice_changer

__all__ = ["voice_changer"]


@vcfx.hookimpl
def register_presets(register):
    register("voice_changer", voice_changer,
             "The study's voice changer: intonation, pitch, pace, noise, reverb in one chain")
