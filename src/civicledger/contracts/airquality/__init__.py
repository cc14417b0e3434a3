from civicledger.contracts.airquality.contract import AirQuality

__all__ = ["AirQuality"]
