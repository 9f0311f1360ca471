"""Onset detection and syllable slicing."""
