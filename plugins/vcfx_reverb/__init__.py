"""Convolution reverb."""
