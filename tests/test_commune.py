"""The commune file: hamlets, populations and targets, validated with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from server import PROJECT

from bot.commune import CommuneError, load_commune


def test_the_sample_commune_file_is_valid_and_says_its_hamlets_are_placeholders() -> None:
    commune = load_commune(PROJECT / "commune.yaml")
    assert commune.commune.placeholder_hamlets is True
    assert "PLACEHOLDER" in (PROJECT / "commune.yaml").read_text(encoding="utf-8")
    groups = {target.group for target in commune.targets}
    assert groups == {"adult", "pupil", "official", "worker"}
    adult = sorted((t.deadline.isoformat(), t.share) for t in commune.targets if t.group == "adult")
    assert adult == [("2025-12-31", 0.8), ("2026-12-31", 0.9)]


def test_hamlets_are_found_by_name_or_alias_without_diacritics() -> None:
    commune = load_commune(PROJECT / "commune.yaml")
    first = commune.hamlets[0]
    assert commune.find_hamlet(first.name.upper()) == first
    assert commune.find_hamlet("thon 1") == first
    assert commune.find_hamlet("nowhere") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("commune: [\n", "commune.yaml"),
        (
            "commune: {name: X, province: Y}\nhamlets: []\n",
            "hamlets: Tuple should have at least 1 item",
        ),
        (
            "commune: {name: X, province: Y}\nhamlets:\n"
            "  - {id: a, name: A, population: {adults: 3}}\n",
            "unknown target group",
        ),
        (
            "commune: {name: X, province: Y}\nhamlets:\n"
            "  - {id: a, name: A, population: {adult: -3}}\n",
            "hamlets.0.population.adult",
        ),
        (
            "commune: {name: X, province: Y}\nhamlets:\n"
            "  - {id: a, name: A, population: {adult: 3}}\n"
            "  - {id: a, name: B, population: {adult: 3}}\n",
            "duplicate hamlet id",
        ),
        (
            "commune: {name: X, province: Y}\nhamlets:\n"
            "  - {id: a, name: A, population: {adult: 3}}\n"
            "targets:\n  - {group: adult, share: 1.5, deadline: 2025-12-31}\n",
            "targets.0.share",
        ),
    ],
)
def test_invalid_commune_files_are_reported(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "commune.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommuneError) as caught:
        load_commune(path)
    assert expected in str(caught.value)
