"""Argument checks shared by throttle(), execute() and batch().

Each check raises TypeError for a value of the wrong type and ValueError for
a value out of range, naming the argument and the value, and returns the
value unchanged.
"""

import math
import numbers


def _require_real(name, value):
    # bool is an int subclass, but True as a number of seconds is a mistake.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("%s must be a number, not %s (%r)"
                        % (name, type(value).__name__, value))
    if not math.isfinite(value):
        raise ValueError("%s must be a finite number, got %r" % (name, value))
    return value


def seconds(name, value):
    """Check that value is a finite number of seconds >= 0."""
    _require_real(name, value)
    if value < 0:
        raise ValueError("%s must be >= 0 seconds, got %r" % (name, value))
    return value


def count(name, value, minimum):
    """Check that value is an int >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError("%s must be an int, not %s (%r)"
                        % (name, type(value).__name__, value))
    if value < minimum:
        raise ValueError("%s must be >= %d, got %r" % (name, minimum, value))
    return value


def positive(name, value):
    """Check that value is a finite number > 0."""
    _require_real(name, value)
    if value <= 0:
        raise ValueError("%s must be > 0, got %r" % (name, value))
    return value


def fraction(name, value):
    """Check that value is a number in (0, 1]."""
    _require_real(name, value)
    if not 0 < value <= 1:
        raise ValueError("%s must be in (0, 1], got %r" % (name, value))
    return value
