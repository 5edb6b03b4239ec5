"""The one shape of a refusal a user can act on, shared by every app that says "no" in words."""

from __future__ import annotations


class Refused(Exception):
    """Something cannot be done as asked: `message` says why, for a person; `field` names the input
    at fault ("" when it is no one field), so forms and the API can point at it."""

    def __init__(self, message: str, *, field: str = "") -> None:
        self.message = message
        self.field = field
        super().__init__(message)
