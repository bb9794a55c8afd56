"""MLflow's check of a model's pinned requirements, without its scan of every distribution:
the check still compares each pin with what is installed, and MLflow's own map is left as it
was."""

import importlib
import importlib.metadata
import logging

from mlflow.utils import requirements_utils

from scratchnet.tracking.models import requirements
from scratchnet.tracking.pins import MAP, pinned_packages, pins_mapped


def test_each_pin_is_a_package_imported_under_its_own_name_at_the_pinned_version():
    for pin in requirements():
        name, version = pin.split("==")
        assert importlib.metadata.version(name) == version
        assert importlib.import_module(name).__version__ == version
        assert pinned_packages([pin]) == {name: [name]}


def test_mlflows_check_still_warns_of_a_pin_the_environment_does_not_meet(caplog):
    pins = ["numpy==0.0.1", *requirements()[:1]]
    with caplog.at_level(logging.WARNING, "mlflow"), pins_mapped(pins):
        requirements_utils.warn_dependency_requirement_mismatches(pins)
    (warning,) = [r.getMessage() for r in caplog.records if "mismatches" in r.getMessage()]
    assert "numpy (current: " in warning and "required: numpy==0.0.1" in warning
    assert "scratchnet" not in warning


def test_mlflows_check_is_silent_for_the_pins_a_model_is_saved_with(caplog):
    with caplog.at_level(logging.WARNING, "mlflow"), pins_mapped(requirements()):
        requirements_utils.warn_dependency_requirement_mismatches(requirements())
    assert [r for r in caplog.records if "mismatches" in r.getMessage()] == []


def test_mlflows_own_map_is_as_it_was_after_the_block():
    before = getattr(requirements_utils, MAP)
    with pins_mapped(requirements()):
        inside = getattr(requirements_utils, MAP)
    assert getattr(requirements_utils, MAP) is before
    if before is None:  # MLflow had not built its map: the block used the pins alone
        assert inside == pinned_packages(requirements())
