"""The ``civic`` command line."""
