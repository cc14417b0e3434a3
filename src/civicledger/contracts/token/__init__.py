from civicledger.contracts.token.contract import Token

__all__ = ["Token"]
