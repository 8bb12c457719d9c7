"""The prose of the structured report: one markdown narrative per section, filled from a case.

Inferred wording (the reference documents only that each section carries markdown), written like
an expert accident-reconstruction report in the markdown subset the renderers understand:
``###`` headings, ``**bold**``, numbered and bulleted lists, paragraphs with kept line breaks.

The numbers the prose quotes are computed by :mod:`mockserver.content.structured_report` and handed in
as :class:`LoadFigures` and :class:`MotionFigures`, so the narrative and the section's data
never disagree. Pure: no randomness, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from mockserver.core.case_profile import REGION_TITLES, CaseProfile

__all__ = [
    "LoadFigures",
    "MotionFigures",
    "alleged_injuries_markdown",
    "ar_acceleration_markdown",
    "ar_intro_markdown",
    "ar_liability_markdown",
    "ar_similar_cases_markdown",
    "assignment_markdown",
    "forces_intro_markdown",
    "forces_region_markdown",
    "forces_tbi_markdown",
    "header_markdown",
    "injury_mechanism_markdown",
    "injury_mechanisms_intro_markdown",
    "loading_considerations_markdown",
    "occupant_motion_analysis_markdown",
    "occupant_motion_markdown",
    "opinions_markdown",
    "references_markdown",
]


@dataclass(frozen=True)
class LoadFigures:
    """One body region's estimated crash load, its tolerance and everyday comparisons."""

    region: str
    quantity: str  # e.g. "axial compression", in ``unit`` (e.g. "lbf")
    unit: str
    crash: float
    tolerance: float
    daily_activities: tuple[tuple[str, float], ...]  # (activity, load), ascending

    @property
    def percent_of_tolerance(self) -> int:  # the crash load, as a whole percentage
        return round(100 * self.crash / self.tolerance)


@dataclass(frozen=True)
class MotionFigures:
    """The occupant-kinematics numbers of the motion analysis."""

    pulse_ms: int
    mean_acceleration_g: float
    head_peak_g: float
    excursion_in: float
    direction: str  # "rearward", "lateral", "forward"


def _long_date(iso_date: str) -> str:
    day = date.fromisoformat(iso_date)  # "2026-04-15" -> "April 15, 2026", else ValueError
    return f"{day:%B} {day.day}, {day.year}"


def _model(vehicle: str) -> str:  # "2019 Honda Civic" -> "Honda Civic"
    head, _, rest = vehicle.partition(" ")
    return rest if head.isdigit() and rest else vehicle


def _joined(items: Sequence[str]) -> str:
    return " and ".join(items) if len(items) <= 2 else ", ".join(items[:-1]) + ", and " + items[-1]


_STRUCK_PART = {"rear-end": "rear", "side-impact": "side", "frontal-offset": "front (offset)"}


def header_markdown(profile: CaseProfile, report_date: str) -> str:
    """The letterhead block: date, addressee, caption (the seed's layout)."""
    subject = "Accident Reconstruction" + (" and Biomechanics" if profile.has_biomechanics else "")
    return (
        f"{_long_date(report_date)}\n\n{profile.attorney_name}\n{profile.law_firm}\n\n"
        f"**Case:** {profile.caption}\n**Date of Accident:** {_long_date(profile.accident_date)}\n"
        f"**Subject:** {subject}"
    )


def assignment_markdown(profile: CaseProfile) -> str:
    scope = "the severity of the collision" + (
        " and the forces it imposed on the occupant's body" if profile.has_biomechanics else ""
    )
    materials = ["Photographs of the damage to both vehicles", "Police traffic crash report"]
    materials.append("Vehicle specifications and published crash-test data")
    if profile.has_biomechanics:
        materials.append("Medical records describing the alleged injuries")
    return (
        f"Silent Witness was utilized to review the available materials and to evaluate {scope} "
        f"in the {_long_date(profile.accident_date)} crash at {profile.accident_location}, "
        f"involving a {profile.plaintiff_vehicle} occupied by {profile.plaintiff_name} and a "
        f"{profile.defendant_vehicle} operated by {profile.defendant_name}.\n\n"
        "### Materials Reviewed\n\n" + "".join(f"- {item}\n" for item in materials) + "\n"
        "The opinions below are held to a reasonable degree of engineering certainty and may "
        "be supplemented if additional information becomes available."
    )


def opinions_markdown(
    profile: CaseProfile, motion: MotionFigures, loads: Sequence[LoadFigures]
) -> str:
    ours = _model(profile.plaintiff_vehicle)
    lines = [
        "**Accident Reconstruction**",
        "",
        f"1. The {ours} experienced a change in velocity (delta-V) of approximately "
        f"{profile.delta_v_mph:.1f} mph in the {profile.collision_type} collision.",
        f"2. The peak acceleration of the {ours} was approximately "
        f"{profile.peak_acceleration_g:.1f} g, over a crash pulse lasting roughly "
        f"{motion.pulse_ms} ms.",
        "3. The physical evidence is consistent with the sequence of events described by the "
        "parties and in the police report.",
    ]
    if not profile.has_biomechanics:
        return "\n".join(lines)
    above = [REGION_TITLES[x.region].lower() for x in loads if x.crash >= x.tolerance]
    below = [REGION_TITLES[x.region].lower() for x in loads if x.crash < x.tolerance]
    loading = "No regional forces could be resolved from the available records"
    if above or below:
        verdict = "reached" if above else "were below"
        loading = f"The loads estimated for the {_joined(above or below)} {verdict} published injury tolerances"
    lines += [
        "",
        "**Biomechanics**",
        "",
        f"4. The crash produced {motion.direction} occupant motion, restrained by the seat and "
        f"belt, with a peak head acceleration near {motion.head_peak_g:.1f} g.",
        f"5. {loading}.",
        f"6. At age {profile.occupant_age}, pre-existing degenerative changes should be "
        "considered when attributing symptoms to this event.",
    ]
    return "\n".join(lines)


def ar_intro_markdown(profile: CaseProfile) -> str:
    return (
        f"On {_long_date(profile.accident_date)}, the front of the {_model(profile.defendant_vehicle)}"
        f" struck the {_STRUCK_PART.get(profile.collision_type, 'front')} of the "
        f"{_model(profile.plaintiff_vehicle)} at {profile.accident_location}. "
        f"{profile.plaintiff_name} was the "
        f"{profile.occupant_seated_position} of the {profile.plaintiff_vehicle}; "
        f"{profile.defendant_name} was driving the {profile.defendant_vehicle}.\n\n"
        "### Method\n\n"
        "The collision was reconstructed from the crush profiles visible in the photographs, "
        "the stiffness of each vehicle's structure derived from published crash tests, and "
        "conservation of momentum. The analysis proceeds in three steps:\n\n"
        "1. Measure the residual crush of each vehicle.\n"
        "2. Estimate the energy absorbed in the crush and the closing speed it implies.\n"
        "3. Resolve the change in velocity and acceleration of each vehicle."
    )


def ar_similar_cases_markdown(profile: CaseProfile) -> str:
    ours = _model(profile.plaintiff_vehicle)
    return (
        f"Published crash tests of vehicles similar to the {ours} were reviewed to check the "
        "damage-based estimate. Low-speed bumper tests run by the Insurance Institute for "
        "Highway Safety at 6 mph produce visible but limited cover damage, while NHTSA "
        "compliance and NCAP tests at 30-35 mph produce extensive structural crush.\n\n"
        f"The damage to the {ours} falls between these benchmarks and is most similar to "
        f"tests with a delta-V of {max(1.0, profile.delta_v_mph - 2):.0f}-"
        f"{profile.delta_v_mph + 2:.0f} mph. Staged collisions with human volunteers "
        "(McConnell et al.; Siegmund et al.) at comparable severities are discussed in the "
        "biomechanical literature listed in the references."
    )


def ar_acceleration_markdown(profile: CaseProfile, motion: MotionFigures) -> str:
    return (
        f"### Delta-V\n\nThe change in velocity of the {profile.plaintiff_vehicle} was "
        f"calculated as **{profile.delta_v_mph:.1f} mph** "
        f"({profile.delta_v_mph * 1.609:.1f} km/h).\n\n"
        f"### Peak Acceleration\n\nFor a crash pulse of about {motion.pulse_ms} ms, the peak "
        f"acceleration was **{profile.peak_acceleration_g:.1f} g**. For comparison:\n\n"
        "- Hard braking on dry pavement: about 0.8 g\n"
        "- Amusement-park bumper cars: 2-4 g\n"
        "- Plopping down into a chair: up to 3.5 g at the head"
    )


_DUTIES = {
    "rear-end": "maintain a safe following distance and speed",
    "side-impact": "yield the right-of-way at the intersection",
}


def ar_liability_markdown(profile: CaseProfile) -> str:
    duty = _DUTIES.get(profile.collision_type, "remain within the lane of travel")
    return (
        f"From an engineering standpoint, the collision was avoidable by the driver of the "
        f"{profile.defendant_vehicle}. A typical perception-reaction time of 1.5 seconds, "
        "followed by braking at 0.7 g, would have allowed the vehicle to stop or slow "
        f"sufficiently had its driver acted to {duty}.\n\n"
        f"No evidence was found that the {profile.plaintiff_vehicle} was operated "
        "improperly immediately before the collision. The allocation of legal fault is left "
        "to the trier of fact."
    )


def alleged_injuries_markdown(profile: CaseProfile) -> str:
    items = "\n".join(f"- {REGION_TITLES[r]}" for r in profile.alleged_regions)
    aging = "Age-related degeneration would not be expected to dominate at this age."
    if profile.occupant_age >= 40:
        aging = "Degenerative changes of the spine and joints are common at this age and can produce symptoms without trauma."
    return (
        f"{profile.plaintiff_name}, a {profile.occupant_age}-year-old "
        f"{profile.occupant_seated_position}, alleges injuries to the following regions:\n\n"
        f"{items}\n\n### Health Considerations\n\n{aging} The records were reviewed for prior "
        "complaints, treatment and imaging of the same regions."
    )


def injury_mechanisms_intro_markdown(profile: CaseProfile) -> str:
    return (
        "An injury occurs when the load on a tissue exceeds its tolerance. For each alleged "
        "injury, the mechanism that would be required to produce it is identified first, and "
        "then compared with the motion and loading that this collision could generate.\n\n"
        "Tolerances come from cadaver, volunteer and field-data studies, and are quoted for "
        f"a healthy adult; they are adjusted for an occupant aged {profile.occupant_age}."
    )


_MECHANISMS: dict[str, str] = {
    "cervical_spine": "Cervical injuries such as disc herniation or facet-capsule strain require "
    "combined compression and bending, or extension of the head beyond its physiologic range. "
    "A properly positioned head restraint limits rearward head motion in rear impacts.",
    "thoracic_spine": "The thoracic spine is stiffened by the rib cage; injury typically "
    "requires large axial compression with flexion, as in a vertical fall or a severe frontal "
    "crash in which the torso wraps over the lap belt.",
    "lumbar_spine": "Lumbar disc injury requires high compression combined with flexion and "
    "rotation. In most collisions the seat supports the pelvis and lower back, and the loads "
    "are of the same order as lifting or bending.",
    "shoulder": "Shoulder injuries such as rotator-cuff tears are produced by forceful "
    "traction, direct blows or loading of the outstretched arm; a shoulder belt loads the "
    "clavicle and chest rather than the rotator cuff.",
    "hip": "Hip injury requires axial load along the femur, typically from a knee striking the "
    "instrument panel in a frontal crash, or a direct lateral blow from door intrusion.",
    "knee": "Knee injuries arise from direct impact with the knee bolster or instrument panel, "
    "or from twisting of a planted foot; ligament injury requires forces far above those of "
    "normal gait.",
    "foot_ankle": "Foot and ankle fractures and sprains arise from toe-pan intrusion or from "
    "bracing against the pedals, which requires substantial floor-pan loading.",
    "tbi": "A traumatic brain injury requires a head impact or rapid rotational acceleration "
    "of the head. Mild TBI risk rises with peak head accelerations of roughly 70-100 g; an "
    "unstruck head in a low-speed crash sees a small fraction of that.",
}


def injury_mechanism_markdown(profile: CaseProfile, region: str) -> str:
    if region == "tbi":
        follow_up = "head loading is compared with brain-injury thresholds under Forces below"
    elif region in profile.force_regions:
        follow_up = (
            "the forces on this region were resolved and are compared with its tolerance below"
        )
    else:
        follow_up = (
            "the forces on this region could not be resolved, so the occupant motion decides"
        )
    return (
        f"{_MECHANISMS[region]}\n\n**Application to this case:** for {profile.plaintiff_name} "
        f"in this {profile.collision_type} collision, {follow_up}."
    )


def occupant_motion_markdown(profile: CaseProfile, motion: MotionFigures) -> str:
    movement = {
        "rearward": "the vehicle accelerated forward beneath the occupant, who moved rearward "
        "relative to it into the seatback and head restraint, then rebounded forward",
        "lateral": "the vehicle was pushed sideways beneath the occupant, who moved laterally "
        "toward the struck side, restrained by the seat bolsters and belt",
        "forward": "the vehicle slowed beneath the occupant, who moved forward relative to it "
        "into the seat belt, then rebounded into the seatback",
    }[motion.direction]
    return (
        f"In this collision {movement}. As the {profile.occupant_seated_position}, "
        f"{profile.plaintiff_name} was restrained by a three-point belt.\n\n"
        "Occupant motion unfolds in three phases:\n\n"
        "1. Loading: the vehicle moves before the occupant does.\n"
        "2. Peak excursion: the seat, belt and head restraint stop the motion.\n"
        "3. Rebound: the occupant returns toward the original posture."
    )


def occupant_motion_analysis_markdown(motion: MotionFigures) -> str:
    return (
        f"The crash pulse lasted about **{motion.pulse_ms} ms** with a mean acceleration of "
        f"{motion.mean_acceleration_g:.1f} g. The estimated {motion.direction} excursion of the "
        f"torso was {motion.excursion_in:.1f} in, and the peak head acceleration "
        f"{motion.head_peak_g:.1f} g.\n\nThe tables below summarise the kinematics and the "
        "timing of each phase."
    )


def forces_intro_markdown(profile: CaseProfile, loads: Sequence[LoadFigures]) -> str:
    names = [REGION_TITLES[load.region].lower() for load in loads]
    if profile.has_tbi:
        names.append("head")
    return (
        f"The forces exerted on {profile.plaintiff_name} were estimated from the vehicle "
        "acceleration, an anthropometric model of an occupant of this age and the measured "
        "stiffness of seats and restraints. Each estimate is compared with its published "
        f"injury tolerance. Regions evaluated: {_joined(names)}."
    )


def forces_tbi_markdown(motion: MotionFigures) -> str:
    share = round(100 * motion.head_peak_g / 80)
    return (
        f"No evidence of a head strike was identified. The peak head acceleration without "
        f"contact is estimated at **{motion.head_peak_g:.1f} g**, about {share}% of the "
        "roughly 80 g associated with a 50% risk of concussion in reconstructed football "
        "impacts (Pellman et al.; Zhang et al.).\n\n- Head contact: not indicated\n"
        "- Rotational loading: within the range of vigorous voluntary head motion"
    )


def forces_region_markdown(profile: CaseProfile, load: LoadFigures) -> str:
    exceeded = [name.lower() for name, value in load.daily_activities if value < load.crash]
    everyday = f"exceeds the loads of {_joined(exceeded)}" if exceeded else "is below them all"
    verdict = "below" if load.crash < load.tolerance else "at or above"
    return (
        f"The peak {load.quantity} of the {REGION_TITLES[load.region].lower()} of "
        f"{profile.plaintiff_name} is estimated at **{load.crash:g} {load.unit}**, "
        f"{load.percent_of_tolerance}% of the injury tolerance of {load.tolerance:g} {load.unit} "
        f"for an occupant aged {profile.occupant_age}, and therefore {verdict} it.\n\n"
        f"- Activities of daily living: the crash load {everyday}\n"
        "- Secondary loads: listed in the table below, each with its own tolerance"
    )


def loading_considerations_markdown(
    profile: CaseProfile, loads: Sequence[LoadFigures], motion: MotionFigures
) -> str:
    if not loads:
        return (
            f"The peak vehicle acceleration of {profile.peak_acceleration_g:.1f} g is compared "
            "below with accelerations experienced in everyday life, which the body tolerates "
            "routinely without injury."
        )
    items = "\n".join(
        f"- **{REGION_TITLES[load.region]}:** {load.crash:g} {load.unit} in the crash; the "
        f"largest everyday load charted is {load.daily_activities[-1][1]:g} {load.unit} "
        f"({load.daily_activities[-1][0].lower()})"
        for load in loads
    )
    return (
        "Loads of everyday activities give the crash loads a familiar scale. The charts "
        f"compare each estimate with activities of daily living:\n\n{items}\n\n"
        f"The peak head acceleration of {motion.head_peak_g:.1f} g compares with about 3.5 g "
        "when plopping into a chair and 70-100 g associated with mild brain injury."
    )


_REFERENCES = (
    "Brach RM, Brach RM. *Vehicle Accident Analysis and Reconstruction Methods*, 2nd ed. "
    "SAE International, 2011.",
    "National Highway Traffic Safety Administration. FMVSS No. 208, Occupant Crash "
    "Protection. 49 CFR 571.208.",
    "National Highway Traffic Safety Administration. Event Data Recorders. 49 CFR Part 563.",
    "Insurance Institute for Highway Safety. Bumper test protocol (low-speed impacts).",
)
_BIOMECHANICS_REFERENCES = (
    "McConnell WE, et al. Analysis of Human Test Subject Kinematic Responses to Low Velocity "
    "Rear End Impacts. SAE Technical Paper 930889, 1993.",
    "Siegmund GP, et al. Head/Neck Kinematic Response of Human Subjects in Low-Speed "
    "Rear-End Collisions. SAE Technical Paper 973341, 1997.",
    "Allen ME, et al. Acceleration perturbations of daily living: a comparison to whiplash. "
    "*Spine* 19(11):1285-1290, 1994.",
    "Mertz HJ, Patrick LM. Strength and Response of the Human Neck. SAE Technical Paper "
    "710855, 1971.",
    "Nachemson A. Disc pressure measurements. *Spine* 6(1):93-97, 1981.",
    "Zhang L, Yang KH, King AI. A proposed injury threshold for mild traumatic brain injury. "
    "*J Biomech Eng* 126(2):226-236, 2004.",
    "Pellman EJ, Viano DC, et al. Concussion in professional football: reconstruction of game "
    "impacts and injuries. *Neurosurgery* 53(4):799-814, 2003.",
)


def references_markdown(profile: CaseProfile) -> str:
    chosen = _REFERENCES + (_BIOMECHANICS_REFERENCES if profile.has_biomechanics else ())
    return "\n".join(f"{number}. {text}" for number, text in enumerate(chosen, start=1))
