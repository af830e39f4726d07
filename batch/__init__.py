"""batch: check and apply a spreadsheet of Zoom license assignments, with an Excel report."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("batch")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
