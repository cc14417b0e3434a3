from civicledger.contracts.incentives.contract import Incentives

__all__ = ["Incentives"]
