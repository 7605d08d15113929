"""Errors a user can act on. Their message is one line, shown as `::error::`."""

from __future__ import annotations


class ActionError(Exception):
    """A failure with a message that tells the user what went wrong and what to do."""


class InputError(ActionError):
    """An input is missing, malformed, or does not apply to the chosen vendor."""


class VendorError(ActionError):
    """The vendor's API refused a request or answered something the action cannot use."""


class TransientVendorError(VendorError):
    """The vendor could not be read right now (connection error, 429, 5xx, non-JSON body).

    Raised only after the client's own retries; while waiting for results the
    poll loop tolerates it and tries again at the next interval.
    """


class TimeoutReached(TransientVendorError):
    """The `timeout` passed while a request was waiting or under way: the run ends as `timeout`, not `error`."""
