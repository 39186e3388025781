"""TM204 examples."""

from torchmode.rules.base import Invalid

INVALID: tuple[Invalid, ...] = ()
VALID: tuple[str, ...] = ()
