from civicledger.contracts.parking.contract import Parking

__all__ = ["Parking"]
