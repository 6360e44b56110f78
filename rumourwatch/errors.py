"""Domain exceptions. The CLI turns these into `Error: ...` messages; the dashboard into st.error."""


class RumourwatchError(Exception):
    """Base class for every error a user can act on. `str()` says what is wrong in English (CLI,
    logs); a raise that gives `key` (and `params`) names the dashboard's Chinese message, strings.py
    `wferr.<key>` formatted with `params` (dashboard.workflow_ui.refusal), as WorkflowError does."""

    def __init__(self, message: str = "", key: str | None = None, **params):
        super().__init__(message)
        self.key = key
        self.params = params


class ConfigError(RumourwatchError):
    """A setting has a value that cannot be used."""


class DataBundleError(RumourwatchError):
    """The data bundle directory is missing or lacks an expected file."""


class RecordError(RumourwatchError):
    """A raw record cannot become a media item (the message says why)."""

    def as_reason(self) -> dict:
        """Its key and params as data: nested in the params of an error that says where in the record
        it was (the dashboard explains the nested reason inside the outer one)."""
        return {"key": self.key, "params": self.params}


class SourceError(RumourwatchError):
    """A source could not be read (file missing, feed down, bad encoding)."""


class ModelError(RumourwatchError):
    """A model artifact is missing, foreign, tampered with or of an incompatible version.

    `retrainable` is True when training anew is the whole remedy (no models saved yet, or models
    saved by an older rumourwatch) — never for a foreign or tampered artifact, which someone must see.
    """

    def __init__(self, message: str, retrainable: bool = False):
        super().__init__(message)
        self.retrainable = retrainable


class StoreError(RumourwatchError):
    """The database could not be read or written (locked, full, wrong schema)."""
