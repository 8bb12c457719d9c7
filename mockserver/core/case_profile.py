"""What the mock knows about a case: the facts a report is written from.

The real service reads a case's vehicles, occupants, photos and accident date. The mock accepts
any ``case_id`` (``docs/api-contract.md``, "Not imitated"), so it invents a plausible case instead, chosen
deterministically from the server seed and the case id: the same case id on the same seed always
yields the same parties, collision, delta-V and alleged injuries.

Pure: no Flask, no I/O.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

__all__ = [
    "BIOMECHANICS_REGIONS",
    "DEMO_PROFILE",
    "REGION_TITLES",
    "CaseProfile",
    "profile_for_case",
]

#: The normalised body-region keys of the Get Report reference, in the order the mock emits them.
BIOMECHANICS_REGIONS: tuple[str, ...] = (
    "cervical_spine",
    "thoracic_spine",
    "lumbar_spine",
    "shoulder",
    "hip",
    "knee",
    "foot_ankle",
    "tbi",
)

#: Human-readable section titles per region (the reference: "e.g., Cervical Spine, TBI, Knee").
REGION_TITLES: dict[str, str] = {
    "cervical_spine": "Cervical Spine",
    "thoracic_spine": "Thoracic Spine",
    "lumbar_spine": "Lumbar Spine",
    "shoulder": "Shoulder",
    "hip": "Hip",
    "knee": "Knee",
    "foot_ankle": "Foot & Ankle",
    "tbi": "Traumatic Brain Injury",
}


@dataclass(frozen=True)
class CaseProfile:
    """The invented facts of one case.

    ``alleged_regions`` keeps the order of :data:`BIOMECHANICS_REGIONS`; ``force_regions`` is the
    subset of the non-TBI alleged regions whose forces were resolved. Both are empty when
    ``has_biomechanics`` is false (an accident-only case).
    """

    case_id: str
    plaintiff_name: str
    defendant_name: str
    attorney_name: str
    law_firm: str
    accident_date: str  # ISO date, e.g. "2025-03-14"
    accident_location: str
    collision_type: str  # "rear-end", "side-impact", "frontal-offset"
    plaintiff_vehicle: str  # e.g. "2019 Honda Civic"
    defendant_vehicle: str
    delta_v_mph: float
    peak_acceleration_g: float
    has_biomechanics: bool
    alleged_regions: tuple[str, ...]
    force_regions: tuple[str, ...]
    occupant_age: int
    occupant_seated_position: str  # "driver", "front passenger"

    @property
    def has_tbi(self) -> bool:
        """Whether a traumatic brain injury is alleged."""
        return "tbi" in self.alleged_regions

    @property
    def caption(self) -> str:
        """The case caption, e.g. ``"Doe v. Miller"``."""
        return f"{self.plaintiff_name.split()[-1]} v. {self.defendant_name.split()[-1]}"


#: The fixed demo case behind ``options.use_demo_data: true``: identical on every run.
DEMO_PROFILE = CaseProfile(
    case_id="case_demo",
    plaintiff_name="Jane Doe",
    defendant_name="Robert Miller",
    attorney_name="Jane Smith, Esq.",
    law_firm="Law Offices of Jane Smith",
    accident_date="2025-03-14",
    accident_location="the intersection of Main Street and 5th Avenue, Springfield",
    collision_type="rear-end",
    plaintiff_vehicle="2019 Honda Civic",
    defendant_vehicle="2021 Ford F-150",
    delta_v_mph=9.4,
    peak_acceleration_g=4.1,
    has_biomechanics=True,
    alleged_regions=("cervical_spine", "lumbar_spine"),
    force_regions=("cervical_spine", "lumbar_spine"),
    occupant_age=42,
    occupant_seated_position="driver",
)

_FIRST_NAMES = ("Maria", "James", "Aisha", "Daniel", "Linda", "Kevin", "Sofia", "Marcus", "Emily")
_LAST_NAMES = ("Garcia", "Johnson", "Okafor", "Nguyen", "Brennan", "Patel", "Kowalski", "Reyes")
_DEFENDANTS = ("Thomas Miller", "Greg Holloway", "Sandra Whitfield", "Victor Lang", "Ann Porter")
_ATTORNEYS = (
    ("Jane Smith, Esq.", "Law Offices of Jane Smith"),
    ("David Chen, Esq.", "Chen & Alvarez LLP"),
    ("Rachel Adler, Esq.", "Adler Injury Law"),
    ("Michael Grant, Esq.", "Grant, Farrow & Pike"),
)
_VEHICLES = (
    "2019 Honda Civic",
    "2020 Toyota Camry",
    "2018 Chevrolet Malibu",
    "2021 Ford F-150",
    "2017 Nissan Altima",
    "2022 Subaru Outback",
    "2016 Jeep Grand Cherokee",
)
_LOCATIONS = (
    "the intersection of Main Street and 5th Avenue, Springfield",
    "northbound Interstate 5 near exit 128",
    "the parking lot exit at 400 Commerce Drive, Riverton",
    "eastbound Route 9 at Oak Hill Road",
)
_COLLISIONS = ("rear-end", "side-impact", "frontal-offset")


def _rng_for(seed: int, case_id: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{case_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def profile_for_case(
    case_id: str, *, seed: int = 0, include_biomechanics: bool | None = None
) -> CaseProfile:
    """Invent the case behind ``case_id``, deterministically from ``seed``.

    ``include_biomechanics`` forces biomechanics on or off (the staging reference's
    ``options.include_biomechanics``); ``None`` lets the seed decide, as the production
    reference lets the case's ``analysis_type`` decide.
    """
    rng = _rng_for(seed, case_id)
    plaintiff = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    attorney, firm = rng.choice(_ATTORNEYS)
    plaintiff_vehicle, defendant_vehicle = rng.sample(_VEHICLES, 2)
    collision = rng.choice(_COLLISIONS)
    has_biomechanics = rng.random() < 0.6 if include_biomechanics is None else include_biomechanics
    alleged: tuple[str, ...] = ()
    forces: tuple[str, ...] = ()
    if has_biomechanics:
        count = rng.randint(1, 4)
        chosen = set(rng.sample(BIOMECHANICS_REGIONS, count))
        alleged = tuple(region for region in BIOMECHANICS_REGIONS if region in chosen)
        forces = tuple(r for r in alleged if r != "tbi" and rng.random() < 0.8)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return CaseProfile(
        case_id=case_id,
        plaintiff_name=plaintiff,
        defendant_name=rng.choice(_DEFENDANTS),
        attorney_name=attorney,
        law_firm=firm,
        accident_date=f"{rng.choice((2023, 2024, 2025))}-{month:02d}-{day:02d}",
        accident_location=rng.choice(_LOCATIONS),
        collision_type=collision,
        plaintiff_vehicle=plaintiff_vehicle,
        defendant_vehicle=defendant_vehicle,
        delta_v_mph=round(rng.uniform(4.0, 22.0), 1),
        peak_acceleration_g=round(rng.uniform(2.0, 11.0), 1),
        has_biomechanics=has_biomechanics,
        alleged_regions=alleged,
        force_regions=forces,
        occupant_age=rng.randint(19, 74),
        occupant_seated_position=rng.choice(("driver", "driver", "front passenger")),
    )
