"""Exceptions with messages a person can act on.

Every failure the workflow reports in ``results/tables/errors.csv`` is one of these;
the message says what is wrong and what to do about it.
"""


class EchemError(Exception):
    """Base class: an input or a fit the workflow could not use."""


class ReaderError(EchemError):
    """A file looked like a known format but could not be parsed."""


class UnknownFormatError(ReaderError):
    """No reader recognises the file."""


class DamagedFileError(UnknownFormatError):
    """The file's name says a data format but its content is damaged (binary garbage,
    a failed copy): an input error, not a note left in raw/."""


class EmptyDataError(ReaderError):
    """The file has a header but no usable data rows."""


class MetadataError(EchemError):
    """``sample.yaml`` or the config holds a missing, unknown or invalid value."""


class AnalysisError(EchemError):
    """A stage could not produce a number from otherwise readable data."""
