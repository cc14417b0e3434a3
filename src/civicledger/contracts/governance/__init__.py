from civicledger.contracts.governance.contract import Governance

__all__ = ["Governance"]
