"""The profile's summary (bench.profile): py-spy's collapsed stacks counted by the package
of the innermost frame and by the project modules on the stack."""

from __future__ import annotations

from bench.profile import module_of, package_of, summarise

SITE = "/work/main/.venv/lib/python3.11/site-packages"
STDLIB = "/root/.pyenv/versions/3.11.7/lib/python3.11"
KIT = "/work/main/libs/servicekit/src/servicekit"
RAW = "\n".join(
    [
        f"run (bench.py:1);handle ({KIT}/eventstore.py:10);execute ({SITE}/psycopg/cursor.py:5) 6",
        f"run (bench.py:1);handle ({KIT}/eventstore.py:10);dumps ({STDLIB}/json/encoder.py:9) 2",
        f"run (bench.py:1);send ({SITE}/aiokafka/producer/producer.py:3) 2",
        "garbage line without a count",
    ]
)


def test_frames_are_told_apart_by_package_and_project_module() -> None:
    assert package_of(f"execute ({SITE}/psycopg/cursor.py:5)") == "psycopg"
    assert package_of(f"dumps ({STDLIB}/json/encoder.py:9)") == "stdlib json"
    assert package_of(f"handle ({KIT}/eventstore.py:10)") == "servicekit"
    assert module_of(f"handle ({KIT}/eventstore.py:10)") == "servicekit/eventstore.py"
    assert module_of(f"execute ({SITE}/psycopg/cursor.py:5)") is None


def test_the_summary_gives_each_share_of_the_samples() -> None:
    lines = summarise(RAW)
    assert lines[0] == "10 samples holding the GIL"
    assert "   60.0%  psycopg" in lines
    assert "   20.0%  stdlib json" in lines
    assert "   20.0%  aiokafka" in lines
    inclusive = lines[lines.index("inclusive, by project module on the stack:") + 1 :]
    assert inclusive == ["   80.0%  servicekit/eventstore.py"]
    assert summarise("") == ["no samples"]
