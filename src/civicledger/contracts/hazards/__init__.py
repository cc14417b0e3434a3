from civicledger.contracts.hazards.contract import Hazards

__all__ = ["Hazards"]
