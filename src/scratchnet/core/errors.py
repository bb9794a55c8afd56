"""The errors scratchnet raises on purpose: each carries a one-line message for the user."""


class ScratchnetError(Exception):
    """Base of every error that entry points report as one line: exit 2 (a usage error) unless
    the class says otherwise (`exit_code`)."""

    exit_code = 2


class RuntimeFailure(ScratchnetError):
    """The machine failed, not the input (a full disk): one line that says it all, exit 1."""

    exit_code = 1


class ConfigError(ScratchnetError, ValueError):
    """A configuration value is out of range, of the wrong kind, or inconsistent."""


class DataError(ScratchnetError):
    """A dataset cannot be found, read, downloaded or verified."""


class IdxFormatError(DataError, ValueError):
    """An IDX file is malformed: bad magic number, dimensions or length."""


class Abort(BaseException):  # noqa: N818  (a refusal, not an error condition of the code)
    """A refusal that must reach the entry point through frameworks that swallow Exceptions.

    Hydra turns an exception raised in a callback into a warning and goes on; a sweep whose
    pre-flight check failed must not go on, so the check raises this instead, and the entry
    point prints `message` as one line and exits with `exit_code`.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
