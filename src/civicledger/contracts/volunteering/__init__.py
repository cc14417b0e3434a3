from civicledger.contracts.volunteering.contract import Volunteering

__all__ = ["Volunteering"]
