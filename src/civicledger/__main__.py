"""``python -m civicledger``: the ``civic`` command (how ``civic cluster up`` starts its peers)."""

from civicledger.cli.main import main

main()
