import pytest

from tests.contracts.incentives.city import City, make_city


@pytest.fixture
def city() -> City:
    return make_city()
