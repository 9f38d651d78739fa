"""User-facing errors: one line naming the file or key and the fix, never a traceback."""


class FramesiftError(Exception):
    """An error the user can act on; the CLI prints ``str(err)`` on one line and exits 2."""


class ConfigError(FramesiftError):
    """A configuration file or key is invalid."""


class VideoError(FramesiftError):
    """A video cannot be read; the pipeline records it and skips the file."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
