"""``python -m paywall`` runs the same CLI as the ``paywall`` console script."""

from paywall.cli import main

main()
