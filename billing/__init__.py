"""Stripe and subscription state. Never imports Flask or ``paywall``.

The public surface used by the web layer: :mod:`billing.snapshots` (what the access
decision reads) and, as billing grows, the service functions that fill them.
"""
