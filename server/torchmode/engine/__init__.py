"""The analysis engine: text -> chunks -> libcst trees -> facts -> flow -> events.

It knows nothing of rules: the rules (``torchmode.rules``) read the events it records, and
the driver above both (``torchmode.analysis``) runs them.
"""
