"""framesift: find the frames of a video collection worth labeling."""

__version__ = "0.1.0"
