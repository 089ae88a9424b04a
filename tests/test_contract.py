import numpy as np
import pandas as pd
import pytest

from lead_scoring.contract import city_tier

TIERS = pd.DataFrame({"city": ["bengaluru", "pune", "jaipur"], "tier": [1, 2, 2]})


@pytest.mark.parametrize(
    "cities",
    [
        pd.Series(["pune", None, "atlantis", "bengaluru"], dtype="str"),
        np.array(["pune", None, "atlantis", "bengaluru"], dtype=object),
        np.array(["pune", None, 7, "bengaluru"], dtype=object),
    ],
    ids=["pandas text", "object text", "a number among the cities"],
)
def test_a_listed_city_gets_its_tier_and_any_other_the_default(cities):
    tiers = city_tier(cities, TIERS, default_tier=3)
    assert tiers.tolist() == [2, 3, 3, 1]
    assert tiers.dtype == "int8"


def test_a_city_listed_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        city_tier(np.array(["pune"], dtype=object), pd.concat([TIERS, TIERS.iloc[1:2]]), 3)
    # Cells that are not text take pandas' way: the same refusal.
    with pytest.raises(ValueError, match="twice"):
        city_tier(np.array([None], dtype=object), pd.concat([TIERS, TIERS.iloc[1:2]]), 3)
