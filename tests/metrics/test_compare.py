"""`upgan compare`: a tiny end-to-end comparison, report.json's keys, and report.html in Chromium."""

import json
import re
import shutil
import subprocess
import tempfile

import pytest

from upgan.cli import main
from upgan.metrics.evaluation import SCORES
from upgan.metrics.report import VARIANT_KEYS, describe_results

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "tiny"
    argv = ["compare", "--upsample", "transposed,subpixel", "--max-steps", "2", "--batch-size", "16", "--n", "40", "--out", str(out)]
    assert main(argv) == 0
    return out


def test_report_json_has_every_key(report_dir):
    report = json.loads((report_dir / "report.json").read_text())
    assert [v["upsample"] for v in report["variants"]] == ["transposed", "subpixel"]
    for v in report["variants"]:
        assert set(VARIANT_KEYS) <= set(v)
        assert v["steps"] == 2 and v["params"] > 0 and v["images_per_s"] > 0 and v["train_seconds"] > 0
        assert v["images_per_s"] == pytest.approx(2 * 16 / v["train_seconds"])
        assert 0 <= v["precision"] <= 1 and 0 <= v["coverage"] <= 1
    assert set(report["baseline"]) == set(SCORES) | {"kid_std"}
    cfg = report["config"]
    assert cfg["n"] == 40 and cfg["max_steps"] == 2 and cfg["batch_size"] == 16 and cfg["features"] == "classifier"
    assert cfg["seed"] == 0 and cfg["epochs"] >= 1
    assert "CPUs" in cfg["machine"]
    # Both runs are kept and the untrained transposed generator is further from real images than real ones are.
    assert (report_dir / "runs" / "transposed" / "generator.safetensors").is_file()
    run_metrics = json.loads((report_dir / "runs" / "subpixel" / "metrics.json").read_text())
    assert run_metrics["generated"]["fid"] == report["variants"][1]["fid"]
    assert report["variants"][0]["fid"] > report["baseline"]["fid"]


def test_compare_on_a_folder_dataset(tmp_path):
    """--image-size and --channels reach every method's training, as `upgan train` takes them."""
    import numpy as np
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(40):
        Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(images / f"{i}.png")
    out = tmp_path / "report"
    argv = ["compare", "--dataset", f"folder:{images}", "--image-size", "8", "--channels", "1", "--upsample", "nearest",
            "--max-steps", "1", "--batch-size", "8", "--n", "10", "--out", str(out)]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["variants"][0]["upsample"] == "nearest" and report["config"]["features"] == "random"
    config = json.loads((out / "runs" / "nearest" / "config.json").read_text())
    assert (config["image_size"], config["channels"]) == (8, 1)


def test_existing_report_needs_force(report_dir, capsys):
    assert main(["compare", "--upsample", "nearest", "--max-steps", "1", "--out", str(report_dir)]) == 2
    assert "already holds a report; use --force" in capsys.readouterr().err


def test_unfinished_compare_needs_force(report_dir, tmp_path, capsys):
    """A compare that stopped before its report: rerunning names --force (compare has no --resume)."""
    out = tmp_path / "unfinished"
    shutil.copytree(report_dir / "runs" / "subpixel", out / "runs" / "subpixel")
    assert main(["compare", "--upsample", "subpixel", "--max-steps", "2", "--batch-size", "16", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"upgan compare: error: subpixel: {out / 'runs' / 'subpixel'} already holds a run" in err
    assert "use --force to replace it" in err and "--resume" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--upsample", "nearest,deconv"], r"--upsample must be a comma-separated list of transposed, nearest, bilinear, subpixel\. Received --upsample 'nearest,deconv'"),
        (["--upsample", "nearest,nearest"], r"lists a method twice"),
        (["--max-steps", "0"], r"--max-steps must be a positive integer\. Received --max-steps 0"),
        (["--n", "3", "--max-steps", "1", "--upsample", "nearest", "--batch-size", "8"], r"--n must be at least 6: density/coverage need more than k=5 samples\. Received --n 3"),
    ],
)
def test_user_errors(tmp_path, capsys, argv, message):
    assert main(["compare", *argv, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("upgan compare: error: ") and re.search(message, err), err


def test_out_must_be_a_folder(tmp_path, capsys):
    (tmp_path / "afile").write_text("mine")
    assert main(["compare", "--max-steps", "1", "--out", str(tmp_path / "afile")]) == 2
    assert "--out must be a folder; " in capsys.readouterr().err and (tmp_path / "afile").read_text() == "mine"
    assert main(["compare", "--max-steps", "1", "--out", ""]) == 2
    assert "--out must be a folder; '' is empty" in capsys.readouterr().err


def test_reading_follows_the_numbers():
    def variant(name, fid, kid, cb, speed):
        return dict(upsample=name, fid=fid, kid=kid, precision=0.7, recall=0.4, density=0.9, coverage=0.6,
                    checkerboard=cb, spectral_distance=0.02, params=1000, images_per_s=speed, train_seconds=5.0)

    report = {
        "variants": [variant("transposed", 20.0, 0.02, 4.0, 300.0), variant("nearest", 10.0, 0.03, 1.1, 200.0)],
        "baseline": dict.fromkeys(SCORES, 1.0) | {"fid": 2.5},
        "config": {"n": 500, "seed": 3},
    }
    lines = describe_results(report)
    assert lines[0].startswith("Lowest FID: nearest (10.0), against 20.0 for transposed; real images score 2.5")
    assert lines[1].startswith("KID disagrees: transposed is lowest there")
    assert any(line.startswith("Checkerboard: transposed (4.0x)") for line in lines)
    assert any("Speed: transposed trained fastest (300 images/s)" in line for line in lines)
    assert "n=500" in lines[-1] and "seed (3)" in lines[-1]
    report["variants"][0]["checkerboard"] = 1.2
    assert any("none shows a marked periodic grid" in line for line in describe_results(report))


def test_reading_names_every_variant_tied_at_the_printed_precision():
    """A tie is not a win: the reading must not depend on the order of --upsample."""
    def variant(name, **changes):
        return dict(upsample=name, fid=30.0, kid=0.1, precision=1.0, recall=0.0, density=0.9, coverage=0.25,
                    checkerboard=1.0, spectral_distance=0.02, params=726465, images_per_s=200.0, train_seconds=5.0) | changes

    for order in (1, -1):
        variants = [variant("nearest", fid=12.04), variant("transposed", fid=12.01, kid=0.2, params=798145), variant("bilinear")]
        report = {"variants": variants[::order], "baseline": dict.fromkeys(SCORES, 1.0), "config": {"n": 20, "seed": 0}}
        text = " ".join(describe_results(report))
        first, second = ("nearest", "transposed") if order == 1 else ("transposed", "nearest")
        assert f"Lowest FID: {first} and {second} (12.0), against 30.0 for bilinear" in text
        assert "KID agrees: nearest is lowest there too (0.1000)" in text  # the tied FID leader KID also picks
        names = [v["upsample"] for v in variants[::order]]
        assert f"Fidelity (precision) is highest for {names[0]}, {names[1]} and {names[2]} (1.00)" in text
        small = [n for n in names if n != "transposed"]
        assert f"{small[0]} and {small[1]} have the fewest generator parameters (726,465)" in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs Debian's package)")
def test_report_html_loads_offline_in_chromium(report_dir, tmp_path):
    page = (report_dir / "report.html").read_text()
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    # Record, after load, each image's decoded width and whether the table is there.
    probe = (
        "<script>window.addEventListener('load', () => { const d = document.createElement('pre');"
        " d.id = 'probe'; d.textContent = JSON.stringify({widths: [...document.images].map(i => i.naturalWidth),"
        " rows: document.querySelectorAll('#metrics tbody tr').length}); document.body.appendChild(d); });</script>"
    )
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", probe + "</body>"))
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--dump-dom", probed.as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    match = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout)
    assert match, result.stderr[-2000:]
    probe_result = json.loads(match.group(1).replace("&quot;", '"'))
    # 2 sample grids + real grid + spectrum plot, all decoded
    assert len(probe_result["widths"]) == 4 and all(w > 50 for w in probe_result["widths"]), probe_result
    assert probe_result["rows"] == 3  # two variants and the real-vs-real baseline
