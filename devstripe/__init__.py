"""Development and test stand-in for Stripe: the ``localstripe`` emulator behind an adapter.

Nothing in ``billing/`` or ``paywall/`` (the product) imports this package, except the
demo command that starts it. The adapter makes the emulator answer as Stripe does for the
API version the pinned ``stripe`` SDK ships: it checks every request against that SDK's
generated contract, translates what the emulator lacks, and reshapes its answers and
webhook events into the pinned version's shapes.
"""
