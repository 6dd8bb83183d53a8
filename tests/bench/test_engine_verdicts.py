"""`make bench` says plainly which of the scan engine's targets a run met."""

from bench.engine import verdicts


def test_each_target_is_judged_against_its_figure():
    results = {
        "sizes": {
            1000: {"json": {"seconds": 0.2, "peak_mb": 50.0}, "yaml_rs_ratio": 1.34},
            10000: {"json": {"seconds": 5.2, "peak_mb": 337.0}, "yaml_rs_ratio": 2.02},
        },
        "startup_seconds": 0.06,
        "checkov_ratio": 99.5,
    }
    assert verdicts(results) == [
        "JSON 10,000 workloads <= 5 s: NOT MET (5.2 s)",
        "JSON 10,000 workloads peak <= 400 MB: met (337 MB)",
        "YAML 1,000 workloads vs yaml-rs <= 1.5x: met (1.34x)",
        "YAML 10,000 workloads vs yaml-rs <= 1.5x: NOT MET (2.02x)",
        "start-up <= 0.5 s: met (0.06 s)",
        "faster than Checkov >= 100x: NOT MET (99.5x)",
    ]


def test_what_a_run_did_not_measure_is_not_judged():
    # Without yaml-rs or Checkov installed, or with the small sizes only.
    results = {"sizes": {1000: {"json": {"seconds": 0.2, "peak_mb": 50.0}}}, "startup_seconds": 0.06}
    assert verdicts(results) == ["start-up <= 0.5 s: met (0.06 s)"]
