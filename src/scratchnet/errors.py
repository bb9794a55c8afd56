"""The errors scratchnet raises on purpose: each carries a one-line message for the user."""


class ScratchnetError(Exception):
    """Base of every error that entry points report as one line and exit 2."""


class ConfigError(ScratchnetError, ValueError):
    """A configuration value is out of range, of the wrong kind, or inconsistent."""


class DataError(ScratchnetError):
    """A dataset cannot be found, read, downloaded or verified."""


class IdxFormatError(DataError, ValueError):
    """An IDX file is malformed: bad magic number, dimensions or length."""
