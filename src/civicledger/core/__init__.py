"""Pure building blocks: encoding, crypto, transactions, blocks, Merkle trees, state.

Nothing here performs I/O or reads a clock; ``core`` imports only the standard
library and the crypto/encoding libraries.
"""
