"""The two views of nurture/'s floors in .importlinter agree, so neither can leave a module out."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[1] / ".importlinter"


def _layers(contract: str) -> list[set[str]]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    text = parser[f"importlinter:contract:{contract}"]["layers"]
    return [
        {name.strip("() ") for name in re.split(r"[:|]", line) if name.strip()}
        for line in text.strip().splitlines()
    ]


def test_the_cross_package_floors_order_nurture_modules_as_the_exhaustive_contract_does() -> None:
    inside = [{f"nurture.{name}" for name in layer} for layer in _layers("nurture-floors")]
    across = [
        layer
        for layer in ({n for n in names if n.startswith("nurture.")} for names in _layers("floors"))
        if layer
    ]
    assert across == inside
