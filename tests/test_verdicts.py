"""The shared localization rule (vetcore.verdicts.localization_verdict)."""

from __future__ import annotations

import pytest

from vetcore.model import Localization
from vetcore.verdicts import INCONCLUSIVE, OFF_TARGET, ON_TARGET, localization_verdict


def loc(east: float, sigma: float) -> Localization:
    """A circular localization ``east`` arcsec east of the target with 1σ ``sigma`` arcsec."""
    return Localization("T", 10.0, 20.0, (east, 0.0), [[sigma**2, 0.0], [0.0, sigma**2]])


def verdict(location: Localization, **kwargs: float) -> str:
    rule = {"sigma_threshold": 3.0, "offset_floor_arcsec": 2.0, "max_confusion_radius_arcsec": 21.0}
    return localization_verdict(location, **{**rule, **kwargs})[0]


@pytest.mark.parametrize(
    ("east", "sigma", "expected"),
    [
        (4.0, 1.0, OFF_TARGET),  # 4σ, beyond the 2″ floor
        (1.5, 0.1, ON_TARGET),  # 15σ but inside the floor
        (2.0, 1.0, ON_TARGET),  # 2σ, confusion radius 3″
        (10.0, 10.0, INCONCLUSIVE),  # 1σ, but the confusion radius 30″ exceeds 21″
    ],
)
def test_single_threshold(east: float, sigma: float, expected: str) -> None:
    assert verdict(loc(east, sigma)) == expected


def test_gap_between_on_target_and_off_target_thresholds_is_inconclusive() -> None:
    marginal = loc(3.2, 1.0)  # 3.2σ
    assert verdict(marginal) == OFF_TARGET
    assert verdict(marginal, sigma_threshold=3.5) == ON_TARGET  # one threshold: below it is consistent
    assert verdict(marginal, sigma_threshold=3.5, on_target_sigma=3.0) == INCONCLUSIVE
    text = localization_verdict(
        marginal, sigma_threshold=3.5, offset_floor_arcsec=2.0, max_confusion_radius_arcsec=21.0,
        on_target_sigma=3.0,
    )[1]  # fmt: skip
    assert "neither consistent" in text and "3.2σ" in text
    assert verdict(loc(2.9, 1.0), sigma_threshold=3.5, on_target_sigma=3.0) == ON_TARGET
    # the floor still applies: a significant offset inside it is not marginal
    assert verdict(loc(1.5, 0.1), sigma_threshold=3.5, on_target_sigma=3.0) == ON_TARGET
    # an on-target threshold above the off-target one changes nothing
    assert verdict(marginal, on_target_sigma=5.0) == OFF_TARGET
