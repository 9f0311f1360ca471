"""Named chains, such as the voice-converter study's voice_changer."""
