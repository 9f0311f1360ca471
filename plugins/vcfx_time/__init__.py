"""Speed and tempo."""
