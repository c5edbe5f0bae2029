"""Everything that checks mathematics numerically, in one room.

- :mod:`.numeric` evaluates expression trees at numbers (numpy, complex-step safe);
- :mod:`.verify` checks a derived result against the complex-step derivative of F;
- :mod:`.verify_steps` checks every displayed line of a derivation against the one before;
- :mod:`.evaluation` is the public ``evaluate()`` (LaTeX in, numbers out).
"""
