"""City services as deterministic contracts. Each imports only ``core`` and the framework."""
