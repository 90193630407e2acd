"""End-use split, the fair comparison, anonymous statistics and resident citations (pure)."""
from decimal import Decimal as D

import pytest

from resident_app.carbon import citations, comparison, enduse, municipalities, reference
from resident_app.carbon.statistics import MIN_RESULTS, quantile, summarise


@pytest.mark.parametrize("annual, kind", [
    ({"electricity": D(3000), "city_gas": D(300)}, "gas_ac"),
    ({"electricity": D(3000), "lpg": D(80)}, "gas_ac"),
    ({"electricity": D(3000), "city_gas": D(300), "kerosene": D(200)}, "gas_kerosene"),
    ({"electricity": D(5000)}, "electric_ac"),
    ({"electricity": D(4000), "kerosene": D(300)}, "electric_kerosene"),
])
def test_the_archetype_follows_the_fuels_used(annual, kind):
    assert enduse.archetype(annual) == kind


@pytest.mark.parametrize("kind", enduse.ARCHETYPES)
def test_every_archetypes_shares_cover_all_of_each_fuel(kind):
    table = enduse.shares()
    assert sum(table[(kind, "electricity")].values()) == 1
    if kind.startswith("gas"):
        assert table[(kind, "gas")]["hot_water"] > D("0.5")
    else:
        assert table[(kind, "electricity")]["hot_water"] > 0


def test_the_split_keeps_every_unit():
    annual = {"electricity": D("2929.2"), "city_gas": D("362.4"), "kerosene": D(300), "gasoline": D(360),
              "water": D(150)}
    split = enduse.split(annual)
    for source, quantity in annual.items():
        assert sum(q for (use, s), q in split.items() if s == source) == quantity
    assert split[("heating", "kerosene")] == 300 and split[("car", "gasoline")] == 360
    assert enduse.by_end_use(split, "hot_water") == {"city_gas": D("362.4") * D("0.85")}


NATIONAL = comparison.national_rows()


@pytest.mark.parametrize("persons, fuel, quantity, derived", [
    (2, "electricity", D(3958), False),                                    # FY2023 kWh by size
    (6, "electricity", D(3911) * D("3.82") / D("1.74"), True),             # 6+: FY2022 CO2 ratio
    (2, "city_gas", D(195) * D("0.42") / D("0.38"), True),                 # FY2019 m³ x size ratio
    (1, "kerosene", D(144) * D("0.17") / D("0.32"), True),
    (3, "car_fuel", D(1030) / D("2.32"), True),                            # 1.03 t ÷ the gasoline factor
])
def test_physical_averages_by_size(persons, fuel, quantity, derived):
    found = comparison.physical_averages(NATIONAL, persons, D("2.32"))[fuel]
    assert found.quantity == pytest.approx(quantity) and found.derived is derived


def test_a_tokyo_flat_is_compared_in_the_same_units_with_its_own_factors():
    annual = {"electricity": D("2929.2"), "city_gas": D("362.4")}
    factors = {"electricity": D("0.423"), "city_gas": D("2.21"), "lpg": D("6.0"), "kerosene": D("2.49"),
               "gasoline": D("2.32"), "diesel": D("2.58")}
    averages = comparison.physical_averages(NATIONAL, 2, factors["gasoline"])
    fair = comparison.compare_fairly(annual, factors, 2, averages, "national")
    rows = {row.fuel: row for row in fair.rows}
    assert rows["electricity"].percent == 74 and rows["city_gas"].percent == 168
    # both sides with 0.423 kg/kWh: the average's electricity is 3,958 kWh x 0.423, not the survey's 1.77 t
    # 3,958 x 0.423 + 215.5 x 2.21 + 27 x 6.0 + 171 x 2.49 kg
    assert fair.average_home_g == 1_674_234 + 476_313 + 162_000 + 425_790
    assert fair.home_g == 1_239_052 + 800_904
    assert fair.home_percent == 74 and fair.energy_percent == 81
    green = comparison.compare_fairly(annual, {**factors, "electricity": D(0)}, 2, averages, "national")
    assert green.home_g == 800_904  # a renewable menu: electricity at 0 on both sides


def test_a_regional_table_is_used_first_and_the_national_one_fills_its_gaps():
    region = [comparison.AverageRow("kanto_koshin", "2", "electricity", "quantity", D(3500), "kWh", "FY2023")]
    merged = comparison.merged_averages(comparison.physical_averages(region, 2, D("2.32")),
                                        comparison.physical_averages(NATIONAL, 2, D("2.32")))
    assert merged["electricity"].quantity == 3500 and merged["electricity"].region == "kanto_koshin"
    assert merged["city_gas"].region == "national"


@pytest.mark.parametrize("values, fraction, expected", [
    ([1, 2, 3, 4, 5], "0.5", 3), ([1, 2, 3, 4], "0.5", 3),   # 2.5 rounds half up
    ([10, 20, 30, 40], "0.25", 18), ([10, 20, 30, 40], "0.75", 33), ([7], "0.25", 7),
])
def test_quantiles_interpolate_between_ranks(values, fraction, expected):
    assert quantile(values, D(fraction)) == expected


def test_fewer_than_ten_results_are_counted_but_never_summarised():
    assert summarise(range(MIN_RESULTS - 1)) .median_g is None
    summary = summarise([1000 * i for i in range(1, 11)])
    assert (summary.count, summary.q1_g, summary.median_g, summary.q3_g) == (10, 3250, 5500, 7750)


def test_every_citation_has_a_title_in_both_languages_and_a_year():
    for key, cite in citations.citations().items():
        assert cite.title_ja and cite.title_en and cite.publisher_ja and cite.year, key
        assert cite.url == "" or cite.url.startswith(("http://", "https://")), key


def test_tokyo_has_62_municipalities_in_three_areas():
    places = municipalities.municipalities()
    assert len(places) == 62
    assert {p.area for p in places.values()} == set(municipalities.AREAS)
    assert municipalities.is_municipality_code("131016") and not municipalities.is_municipality_code("131017")
    assert not municipalities.is_municipality_code(131016)
    assert municipalities.municipality("132012").name("ja") == "八王子市"
    assert municipalities.municipality(None) is None
