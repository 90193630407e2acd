"""Reduction actions that scale with the household's own use, applied one after another.

Each action is a model over the household's end-use energy (carbon.enduse): a share of the
relevant end use, or a physical formula (shower, bath, living-room light). Parameters and their
sources are data (data/action_parameters.csv); labels, citations and the energy agency's
reference cases are data too (data/actions.csv). Savings are never summed independently: the
chosen actions are applied in order, each to what the ones before it left, and every other action
shows what it would save on top of them."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Mapping, Protocol

from .citations import DATA_DIR, Citation, citation_list
from .enduse import EndUseEnergy

SPECIFIC_HEAT_MJ_PER_L_K = Decimal("0.004186")  # water, MJ per litre per kelvin
MJ_PER_KWH = Decimal("3.6")
DAYS = 365
SUPPLY_END_USE = "electricity_supply"
Key = tuple[str, str]  # (end use, source)


@dataclass(frozen=True)
class ActionInfo:
    """What residents read about an action, and the notes only staff see."""

    key: str
    end_use: str
    label_ja: str
    label_en: str
    citations: tuple[Citation, ...]
    reference_case: str  # staff only
    staff_note: str      # staff only

    def label(self, locale: str) -> str:
        return self.label_ja if locale == "ja" else self.label_en


@dataclass(frozen=True)
class Parameter:
    action: str
    name: str
    value: Decimal
    unit: str
    citation: str
    confidence: str
    staff_note: str


@lru_cache(maxsize=4)
def action_infos(data_dir: Path = DATA_DIR) -> dict[str, ActionInfo]:
    with open(data_dir / "actions.csv", encoding="utf-8", newline="") as handle:
        return {row["key"]: ActionInfo(row["key"], row["end_use"], row["label_ja"], row["label_en"],
                                       citation_list(row["citations"], data_dir), row["reference_case"],
                                       row["staff_note"])
                for row in csv.DictReader(handle)}


@lru_cache(maxsize=4)
def parameters(data_dir: Path = DATA_DIR) -> dict[tuple[str, str], Parameter]:
    with open(data_dir / "action_parameters.csv", encoding="utf-8", newline="") as handle:
        return {(row["action"], row["parameter"]): Parameter(
                    row["action"], row["parameter"], Decimal(row["value"]), row["unit"], row["citation"],
                    row["confidence"], row["staff_note"])
                for row in csv.DictReader(handle)}


class Pricing(Protocol):
    """Yen for a year's quantity of a source; None when we have no price for it."""

    def annual_cost(self, source: str, quantity: Decimal) -> Decimal | None: ...


@dataclass(frozen=True)
class Household:
    persons: int
    annual: Mapping[str, Decimal]    # a year, per source
    factors: Mapping[str, Decimal]   # kg-CO2 per unit, the electricity menu's included
    end_uses: EndUseEnergy
    archetype: str
    pricing: Pricing
    water_entered: bool = False


@dataclass(frozen=True)
class Effect:
    energy: dict[Key, Decimal] = field(default_factory=dict)
    clean_supply: bool = False  # the electricity that remains stops emitting


Model = Callable[[Household, Mapping[Key, Decimal], Callable[[str], Decimal]], Effect]


def _share(end_use: str, rate_name: str) -> Model:
    """A fixed share of one end use, on every source it uses."""
    def model(h, rest, p):
        rate = p(rate_name)
        return Effect({key: q * rate for key, q in rest.items() if key[0] == end_use and q > 0})
    return model


def _per_hour(end_use: str) -> Model:
    """One hour less a day: the end use × 1/h (strictly proportional)."""
    def model(h, rest, p):
        rate = 1 / p("hours_per_day")
        return Effect({key: q * rate for key, q in rest.items() if key[0] == end_use and q > 0})
    return model


def _ac_filter(h, rest, p) -> Effect:
    energy = {}
    for key, rate in ((("heating", "electricity"), p("heating_rate")), (("cooling", "electricity"), p("cooling_rate"))):
        if rest.get(key, 0) > 0:
            energy[key] = rest[key] * rate
    return Effect(energy)


def _led(h, rest, p) -> Effect:
    key = ("lighting", "electricity")
    lighting = rest.get(key, Decimal(0))
    if lighting <= 0:
        return Effect()
    lamp = p("lamp_w") * (1 - p("efficacy_ratio")) * p("hours_per_day") * DAYS / 1000
    return Effect({key: min(lamp, lighting * p("max_share_of_lighting"))})


def hot_water_source(h: Household) -> str | None:
    """The fuel that heats the water: the household's gas, else electricity (a heat pump)."""
    if h.archetype.startswith("gas"):
        return "city_gas" if h.annual.get("city_gas", 0) > 0 else "lpg"
    return "electricity" if h.annual.get("electricity", 0) > 0 else None


def fuel_for_heat(source: str, heat_mj: Decimal, p) -> Decimal:
    """Units of the source that deliver `heat_mj` of hot water, through the heater's efficiency."""
    if source == "electricity":
        return heat_mj / MJ_PER_KWH / p("heat_pump_cop")
    per_unit = p("city_gas_mj_per_m3") if source == "city_gas" else p("lpg_mj_per_m3")
    return heat_mj / p("gas_efficiency") / per_unit


def _hot_water(heat_mj: Callable[[Household, Callable[[str], Decimal]], Decimal], *, water=None) -> Model:
    def model(h, rest, p):
        source = hot_water_source(h)
        key = ("hot_water", source)
        available = rest.get(key, Decimal(0))
        if source is None or available <= 0:
            return Effect()
        energy = {key: min(fuel_for_heat(source, heat_mj(h, p), p), available)}
        if water is not None and h.water_entered and rest.get(("water", "water"), 0) > 0:
            energy[("water", "water")] = min(water(h, p), rest[("water", "water")])
        return Effect(energy)
    return model


def _shower_heat(h, p) -> Decimal:
    return h.persons * p("flow_l_per_min") * (p("hot_c") - p("cold_c")) * SPECIFIC_HEAT_MJ_PER_L_K * DAYS


def _shower_water(h, p) -> Decimal:
    return h.persons * p("flow_l_per_min") * DAYS / 1000


def _bath_heat(h, p) -> Decimal:
    if h.persons < 2:
        return Decimal(0)
    return (p("tub_l") * p("drop_c_per_h") * p("gap_h") * SPECIFIC_HEAT_MJ_PER_L_K * DAYS
            * p("reheated_share"))


def _clean_supply(h, rest, p) -> Effect:
    if h.factors.get("electricity", 0) <= 0 or not any(k[1] == "electricity" and q > 0 for k, q in rest.items()):
        return Effect()
    return Effect(clean_supply=True)


# Shower and bath take the hot-water parameters from the shower's rows.
HOT_WATER_PARAMS = "shower_1min"
MODELS: dict[str, Model] = {
    "heating_setpoint": _share("heating", "rate_per_degc"),
    "heating_hours": _share("heating", "rate"),
    "ac_filter": _ac_filter,
    "cooling_setpoint": _share("cooling", "rate_per_degc"),
    "cooling_hours": _share("cooling", "rate"),
    "fridge_setting": _share("fridge", "rate"),
    "fridge_wall": _share("fridge", "rate"),
    "led_living": _led,
    "tv_hour": _per_hour("tv"),
    "tv_brightness": _share("tv", "rate"),
    "toilet_lid": _share("toilet_seat", "rate"),
    "toilet_temp": _share("toilet_seat", "rate"),
    "shower_1min": _hot_water(_shower_heat, water=_shower_water),
    "bath_no_reheat": _hot_water(_bath_heat),
    "laundry_air_dry": _share("laundry", "dryer_share"),
    "eco_start": _share("car", "rate"),
    "eco_steady": _share("car", "rate"),
    "eco_accel_off": _share("car", "rate"),
    "idling_stop": _share("car", "rate"),
    "renewable_menu": _clean_supply,
}


def _params_for(key: str, table: Mapping[tuple[str, str], Parameter]) -> Callable[[str], Decimal]:
    def p(name: str) -> Decimal:
        found = table.get((key, name)) or table.get((HOT_WATER_PARAMS, name))
        if found is None:
            raise KeyError(f"no parameter {name!r} for {key}")
        return found.value
    return p


@dataclass(frozen=True)
class ActionResult:
    info: ActionInfo
    saving_g: int
    saving_yen: int | None       # negative: the action costs money (a renewable menu's premium)
    by_source_g: dict[str, int]
    energy_by_source: dict[str, Decimal]
    selected: bool

    @property
    def key(self) -> str:
        return self.info.key

    @property
    def main_source(self) -> str:
        """The source the action saves most CO2 on (electricity for a menu switch)."""
        if not self.by_source_g:
            return "electricity"
        return max(sorted(self.by_source_g), key=lambda s: self.by_source_g[s])


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class _State:
    """What remains of each (end use, source) as actions are applied; electricity may turn clean."""

    def __init__(self, h: Household) -> None:
        self.h = h
        self.rest: dict[Key, Decimal] = dict(h.end_uses)
        self.clean = False
        self._totals: dict[str, Decimal] = {}   # per source, until the next apply()

    def source_total(self, source: str) -> Decimal:
        total = self._totals.get(source)
        if total is None:
            total = self._totals[source] = sum((q for (use, s), q in self.rest.items() if s == source), Decimal(0))
        return total

    def factor(self, source: str) -> Decimal:
        return Decimal(0) if self.clean and source == "electricity" else self.h.factors.get(source, Decimal(0))

    def measure(self, info: ActionInfo, effect: Effect, premium: Decimal, selected: bool) -> ActionResult:
        """The action's grams and yen against this state (without changing it)."""
        energy: dict[str, Decimal] = {}
        for (use, source), q in effect.energy.items():
            energy[source] = energy.get(source, Decimal(0)) + q
        grams: dict[str, int] = {s: _round(q * self.factor(s) * 1000) for s, q in energy.items()}
        yen: Decimal | None = Decimal(0) if energy else None
        for source, q in energy.items():
            total = self.source_total(source)
            before, after = (self.h.pricing.annual_cost(source, total),
                             self.h.pricing.annual_cost(source, max(total - q, Decimal(0))))
            if before is not None and after is not None and yen is not None:
                yen += before - after
        if effect.clean_supply and not self.clean:
            kwh = self.source_total("electricity")
            grams["electricity"] = _round(kwh * self.factor("electricity") * 1000)
            yen = -premium * kwh
        return ActionResult(info, sum(grams.values()), None if yen is None else _round(yen),
                            {s: g for s, g in grams.items() if g}, energy, selected)

    def apply(self, effect: Effect) -> None:
        self._totals.clear()
        for key, q in effect.energy.items():
            self.rest[key] = max(self.rest.get(key, Decimal(0)) - q, Decimal(0))
        if effect.clean_supply:
            self.clean = True


@dataclass(frozen=True)
class ActionPlan:
    """Every action that applies, in the order shown (largest standalone saving first)."""

    results: tuple[ActionResult, ...]

    @property
    def reduction_g(self) -> int:
        return sum(r.saving_g for r in self.results if r.selected)

    @property
    def reduction_yen(self) -> int:
        return sum(r.saving_yen or 0 for r in self.results if r.selected)

    def by_key(self) -> dict[str, ActionResult]:
        return {r.key: r for r in self.results}


def plan_actions(h: Household, selected: Iterable[str] = (), *, infos: Mapping[str, ActionInfo] | None = None,
                 params: Mapping[tuple[str, str], Parameter] | None = None) -> ActionPlan:
    """Offer the actions that apply to this household and apply the chosen ones one after another.

    Order shown: each action's saving on the household as it is (CO2, then yen, then key), so the
    list does not jump when a box is ticked. Order applied: that order, with switching to a
    renewable menu last (efficiency first, then the cleaner supply for what is left); the chosen
    actions' figures are what each adds in that sequence, the others' what each would add on top."""
    infos = action_infos() if infos is None else infos
    params = parameters() if params is None else params
    chosen = set(selected)
    premium = params.get(("renewable_menu", "premium_yen_per_kwh"))
    premium_yen = premium.value if premium else Decimal(0)

    base = _State(h)
    candidates = []
    for key, model in MODELS.items():
        if key not in infos:
            continue
        effect = model(h, base.rest, _params_for(key, params))
        if not any(q > 0 for q in effect.energy.values()) and not effect.clean_supply:
            continue
        alone = base.measure(infos[key], effect, premium_yen, False)
        if alone.saving_g <= 0 and not alone.energy_by_source:
            continue
        candidates.append((alone, key))
    candidates.sort(key=lambda c: (-c[0].saving_g, -(c[0].saving_yen or 0), c[1]))
    shown = [key for _, key in candidates]
    applied_order = ([k for k in shown if MODELS[k] is not _clean_supply]
                     + [k for k in shown if MODELS[k] is _clean_supply])

    state = _State(h)
    results: dict[str, ActionResult] = {}
    for key in applied_order:
        if key in chosen:
            effect = MODELS[key](h, state.rest, _params_for(key, params))
            results[key] = state.measure(infos[key], effect, premium_yen, True)
            state.apply(effect)
    if not results:  # nothing chosen: the state is the household as it is, measured above already
        results = {key: alone for alone, key in candidates}
    for key in shown:
        if key not in chosen and key not in results:
            effect = MODELS[key](h, state.rest, _params_for(key, params))
            results[key] = state.measure(infos[key], effect, premium_yen, False)
    return ActionPlan(tuple(results[key] for key in shown))
