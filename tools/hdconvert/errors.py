# SPDX-License-Identifier: GPL-3.0-or-later
"""Exceptions of the converter.  Every error the user can cause is a
ConvertError whose message names the file and the problem."""


class ConvertError(Exception):
    """A checkpoint that cannot be converted, or a bad command line."""


class UnsafePickleError(ConvertError):
    """A pickle refers to something outside the small set of globals that
    a file of weights needs.  Nothing of it has been executed."""
