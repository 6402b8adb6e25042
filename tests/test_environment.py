"""colorize_tools.environment: the ENV=system check, the lock written from pip's report, and the wheel
folder's gaps with dependency markers evaluated for the target Python."""

import json
import zipfile

import pytest

from colorize_tools import environment as envmod


def make_wheel(folder, name, version, requires=()):
    """A minimal wheel: only the METADATA that wheelhouse_gaps reads."""
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    path = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            f"{name.replace('-', '_')}-{version}.dist-info/METADATA", "\n".join(meta) + "\n\nlong description\n"
        )
    return path


def test_gaps_follow_markers_of_the_target_python_not_the_running_one(tmp_path):
    make_wheel(tmp_path, "papermill", "2.7.0", ['aiohttp>=3.9; python_version == "3.12"', "tqdm>=4", "click"])
    make_wheel(tmp_path, "tqdm", "4.70.1", ['colorama; platform_system == "Windows"'])
    make_wheel(tmp_path, "click", "8.1.0")
    assert envmod.wheelhouse_gaps(tmp_path, "3.12", ["papermill"]) == ["aiohttp>=3.9"]
    assert envmod.wheelhouse_gaps(tmp_path, "3.13", ["papermill"]) == []
    make_wheel(tmp_path, "aiohttp", "3.8.0")  # present, but too old for the requirement
    assert envmod.wheelhouse_gaps(tmp_path, "3.12", ["papermill"]) == ["aiohttp>=3.9"]


def test_gaps_follow_requested_extras_and_missing_roots(tmp_path):
    make_wheel(tmp_path, "nbformat", "5.10.0", ["jsonschema[format-nongpl]>=2.6"])
    make_wheel(
        tmp_path,
        "jsonschema",
        "4.26.0",
        ['rfc3339-validator; extra == "format-nongpl"', 'isoduration; extra == "format"'],
    )
    assert envmod.wheelhouse_gaps(tmp_path, "3.11", ["nbformat", "ipykernel"]) == ["ipykernel", "rfc3339-validator"]


def test_gaps_name_a_bad_version_or_folder(tmp_path):
    with pytest.raises(ValueError, match="python='312'"):
        envmod.wheelhouse_gaps(tmp_path, "312", ["papermill"])
    with pytest.raises(ValueError, match="nowhere: not a folder"):
        envmod.wheelhouse_gaps(tmp_path / "nowhere", "3.12", ["papermill"])


def test_lock_pins_every_resolved_package_but_the_project_sorted(tmp_path):
    report = tmp_path / "report.json"
    items = [("torch", "2.14.1"), ("colorize-lib", "0.1.0"), ("Jinja2", "3.1.6"), ("numpy", "2.4.6")]
    report.write_text(json.dumps({"install": [{"metadata": {"name": n, "version": v}} for n, v in items]}))
    out = tmp_path / "requirements" / "lock.txt"
    envmod.write_lock(report, out)
    pins = [line for line in out.read_text().splitlines() if not line.startswith("#")]
    assert pins == ["Jinja2==3.1.6", "numpy==2.4.6", "torch==2.14.1"]
    assert "make lock" in out.read_text()


def test_lock_refuses_a_report_without_torch_or_not_a_report(tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"install": [{"metadata": {"name": "numpy", "version": "2.4.6"}}]}))
    with pytest.raises(ValueError, match="torch is not among"):
        envmod.write_lock(report, tmp_path / "lock.txt")
    report.write_text("not json")
    with pytest.raises(ValueError, match="report.json: expected the JSON of `pip install --report`"):
        envmod.write_lock(report, tmp_path / "lock.txt")
    assert not (tmp_path / "lock.txt").exists()


def test_check_names_each_missing_module_and_how_to_bring_it(capsys, monkeypatch):
    modules = {"json": "json", "no_such_module_xyz": "no-such-dist", "papermill_missing_xyz": "papermill"}
    monkeypatch.setitem(envmod.WHEELHOUSE_MODULES, "papermill_missing_xyz", "papermill")  # a notebook tool
    assert envmod.check_system(modules) == 1
    err = capsys.readouterr().err
    assert "cannot import: no_such_module_xyz, papermill_missing_xyz" in err
    assert "make wheelhouse PYTHON_VERSION=" in err and "make install-wheelhouse" in err
    assert "pip install no-such-dist" in err
    assert "json" not in err.split("cannot import:")[1].splitlines()[0]


def test_check_passes_when_everything_imports(capsys):
    assert envmod.check_system({"torch": "torch", "json": "json"}) == 0
    assert "nothing installed" in capsys.readouterr().out
