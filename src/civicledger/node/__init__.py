"""The node: executor, stores, ordering backends and the wiring between them."""
