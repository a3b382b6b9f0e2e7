"""``upgan.data.load_dataset``: bundled digits, IDX and CIFAR files made here in the real formats, folders, offline errors."""

from __future__ import annotations

import gzip
import pickle
import tarfile
import urllib.error

import numpy as np
import pytest
import torch

from upgan.data import DatasetError, ImageDataset, conform, load_dataset


def test_mnist5k_is_bundled():
    ds = load_dataset()
    assert ds.name == "mnist5k" and isinstance(ds, ImageDataset)
    assert ds.images.shape == (5000, 1, 28, 28) and ds.images.dtype == torch.uint8
    assert torch.bincount(ds.labels, minlength=10).min() > 300  # every digit well represented
    assert ds.images.float().mean() > 20  # ink, not a blank array
    image, label = ds[7]
    assert image.shape == (1, 28, 28) and label.dtype == torch.int64


def _write_idx(path, array: np.ndarray, code: int = 0x08) -> None:
    # IDX: 0, 0, type code (0x08 ubyte, 0x0B int16, 0x0D float32), ndim, big-endian uint32 sizes, big-endian data
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}[code]
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(dtype).tobytes())


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_files_placed_by_hand_load_offline(tmp_path, name):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    folder = tmp_path / name
    folder.mkdir()
    _write_idx(folder / "train-images-idx3-ubyte.gz", images)
    _write_idx(folder / "train-labels-idx1-ubyte.gz", labels)
    ds = load_dataset(name, data_dir=str(tmp_path), download=False)
    np.testing.assert_array_equal(ds.images[:, 0].numpy(), images)
    assert ds.labels.tolist() == [3, 1, 4, 1, 5]


def test_truncated_idx_is_an_error(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    _write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (3, 28, 28)) + bytes(100))
    with pytest.raises(DatasetError, match="is truncated or corrupt: 116 bytes, header says 2368"):
        load_dataset("mnist", data_dir=str(tmp_path), download=False)


def test_idx_files_of_another_type_or_with_labels_above_9_are_errors(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    images, labels = folder / "train-images-idx3-ubyte.gz", folder / "train-labels-idx1-ubyte.gz"
    _write_idx(images, np.zeros((3, 28, 28)), code=0x0D)
    _write_idx(labels, np.zeros(3))
    with pytest.raises(DatasetError, match=rf"{images} holds float32 values; mnist stores unsigned bytes \(IDX type 0x08\)"):
        load_dataset("mnist", data_dir=str(tmp_path), download=False)
    _write_idx(images, np.zeros((3, 28, 28)))
    _write_idx(labels, np.array([1, 300, 2]), code=0x0B)
    with pytest.raises(DatasetError, match=rf"{labels} holds int16 values"):
        load_dataset("mnist", data_dir=str(tmp_path), download=False)
    _write_idx(labels, np.array([1, 12, 2]))
    with pytest.raises(DatasetError, match=rf"{labels} has labels above 9 \(up to 12\)"):
        load_dataset("mnist", data_dir=str(tmp_path), download=False)


def _cifar_batches(rng):
    batches = []
    for _ in range(5):
        data = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
        batches.append({b"data": data, b"labels": rng.integers(0, 10, 2).tolist(), b"batch_label": b"x"})
    return batches


@pytest.mark.parametrize("form", ["extracted", "archive"])
def test_cifar10_pickle_batches(tmp_path, form):
    batches = _cifar_batches(np.random.default_rng(2))
    folder = tmp_path / "cifar10"
    inner = folder / "cifar-10-batches-py"
    inner.mkdir(parents=True)
    for i, batch in enumerate(batches, 1):
        (inner / f"data_batch_{i}").write_bytes(pickle.dumps(batch, protocol=2))
    if form == "archive":
        with tarfile.open(folder / "cifar-10-python.tar.gz", "w:gz") as tar:
            tar.add(inner, arcname="cifar-10-batches-py")
        for p in inner.iterdir():
            p.unlink()
        inner.rmdir()
    ds = load_dataset("cifar10", data_dir=str(tmp_path), download=False)
    assert ds.images.shape == (10, 3, 32, 32)
    first = batches[0][b"data"][0]
    # a row is 1024 red, 1024 green, 1024 blue values, each plane in row-major order
    assert ds.images[0, 0, 0, 0] == first[0] and ds.images[0, 1, 0, 0] == first[1024]
    assert ds.images[0, 2, 31, 31] == first[3071] and ds.images[0, 0, 0, 1] == first[1]
    assert ds.labels.tolist() == sum((b[b"labels"] for b in batches), [])
    gray = load_dataset("cifar10", data_dir=str(tmp_path), download=False, channels=1, image_size=16)
    assert gray.images.shape == (10, 1, 16, 16)


@pytest.mark.parametrize(
    "change, message",
    [
        ({b"data": np.full((2, 3072), 300, np.int64)}, r"has pixels that are not integers from 0 to 255 \(int64 values 300..300\)"),
        ({b"data": np.full((2, 3072), 0.5)}, r"has pixels that are not integers from 0 to 255"),
        ({b"labels": [0, 10]}, r"has labels that are not integers from 0 to 9"),
        ({b"labels": [0, 1, 2]}, r"has 2 images but labels of shape \(3,\)"),
    ],
)
def test_cifar10_batch_values_are_checked(tmp_path, change, message):
    batches = _cifar_batches(np.random.default_rng(2))
    batches[2].update(change)
    inner = tmp_path / "cifar10" / "cifar-10-batches-py"
    inner.mkdir(parents=True)
    for i, batch in enumerate(batches, 1):
        (inner / f"data_batch_{i}").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DatasetError, match=r"data_batch_3 " + message):
        load_dataset("cifar10", data_dir=str(tmp_path), download=False)


def test_cifar10_incomplete_folder_falls_back_to_the_archive_and_its_download(tmp_path, monkeypatch):
    (tmp_path / "cifar10" / "cifar-10-batches-py").mkdir(parents=True)  # an interrupted extraction
    asked = []

    def no_network(url, timeout):
        asked.append(url)
        raise urllib.error.URLError("offline")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    with pytest.raises(DatasetError, match=r"(?s)download failed.*cifar-10-python.tar.gz\n    -> .*cifar-10-python.tar.gz"):
        load_dataset("cifar10", data_dir=str(tmp_path))
    assert asked == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]


def test_partial_download_lists_only_what_is_still_missing(tmp_path, monkeypatch):
    import io

    def half_the_files(url, timeout):
        if "labels" in url:
            raise urllib.error.URLError("404")
        path = tmp_path / "blob.gz"
        _write_idx(path, np.zeros((2, 28, 28), np.uint8))
        return io.BytesIO(path.read_bytes())

    monkeypatch.setattr("urllib.request.urlopen", half_the_files)
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=str(tmp_path / "data"))
    assert (tmp_path / "data" / "mnist" / "train-images-idx3-ubyte.gz").is_file()
    assert "train-labels-idx1-ubyte.gz" in str(info.value) and "train-images-idx3-ubyte.gz" not in str(info.value)


def test_offline_message_names_urls_and_destinations(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    with pytest.raises(DatasetError, match="download failed") as info:
        load_dataset("fashion-mnist", data_dir=str(tmp_path))
    message = str(info.value)
    assert "fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz" in message
    assert str(tmp_path / "fashion-mnist" / "train-labels-idx1-ubyte.gz") in message
    assert not any((tmp_path / "fashion-mnist").iterdir())  # no partial files left
    with pytest.raises(DatasetError, match=r"(?s)downloading is off.*cifar-10-python.tar.gz"):
        load_dataset("cifar10", data_dir=str(tmp_path), download=False)


def test_download_saves_the_served_bytes(tmp_path, monkeypatch):
    import io

    served = {}

    def fake_urlopen(url, timeout):
        array = np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28) if "images" in url else np.arange(4, dtype=np.uint8)
        path = tmp_path / "blob.gz"
        _write_idx(path, array)
        served[url] = path.read_bytes()
        return io.BytesIO(served[url])

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    ds = load_dataset("mnist", data_dir=str(tmp_path / "data"))
    assert ds.labels.tolist() == [0, 1, 2, 3] and ds.images.shape == (4, 1, 28, 28)
    assert sorted(served) == [
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
    ]


def test_folder_recursive_resized_cropped_and_counts_unreadable(tmp_path):
    from PIL import Image

    (tmp_path / "a" / "b").mkdir(parents=True)
    # 20 wide x 10 high: left half black, right half white; centre crop 10x10 keeps columns 5..14
    wide = np.zeros((10, 20, 3), np.uint8)
    wide[:, 10:] = 255
    Image.fromarray(wide).save(tmp_path / "a" / "wide.png")
    Image.fromarray(np.full((8, 8, 3), (255, 0, 0), np.uint8)).save(tmp_path / "a" / "b" / "red.jpg")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    (tmp_path / "notes.txt").write_text("ignored")
    ds = load_dataset(f"folder:{tmp_path}", image_size=10)
    assert ds.skipped == 1 and ds.labels is None and ds.images.shape == (2, 3, 10, 10)
    wide_out = ds.images[1]  # sorted paths: a/b/red.jpg first, then a/wide.png
    assert wide_out[:, :, :5].max() == 0 and wide_out[:, :, 5:].min() == 255
    red = ds.images[0].float().mean((1, 2))
    assert red[0] > 240 and red[1] < 15 and red[2] < 15
    gray = load_dataset(f"folder:{tmp_path}", image_size=4, channels=1)
    assert gray.images.shape == (2, 1, 4, 4)
    assert abs(gray.images[0].float().mean().item() - 76) <= 2  # PIL luma of pure red: 0.299 * 255


def test_folder_16bit_grayscale_is_scaled_not_clipped(tmp_path):
    """Pillow opens a 16-bit grayscale PNG as mode I;16 and its convert() clips at 255; values are v / 257."""
    from PIL import Image

    values = np.linspace(0, 65535, 64).reshape(8, 8).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as im:
        assert im.mode.startswith("I;16")  # the case under test
    expected = np.rint(values / 257)
    for channels in (1, 3):
        ds = load_dataset(f"folder:{tmp_path}", image_size=8, channels=channels)
        assert ds.images.shape == (1, channels, 8, 8)
        for c in range(channels):  # at the native size the resize is the identity
            np.testing.assert_array_equal(ds.images[0, c].numpy(), expected)


def test_folder_entries_that_cannot_be_examined_are_skipped_and_counted(tmp_path, monkeypatch):
    from pathlib import Path

    from PIL import Image

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "ok.png")
    (tmp_path / "locked.png").mkdir()  # stands for an entry stat() is refused on
    real_is_file = Path.is_file

    def is_file(self):
        if self.name == "locked.png":
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    ds = load_dataset(f"folder:{tmp_path}", image_size=8, channels=1)
    assert ds.images.shape == (1, 1, 8, 8) and ds.skipped == 1
    (tmp_path / "ok.png").unlink()
    with pytest.raises(DatasetError, match=r"\(1 candidate files, 1 unreadable\)"):
        load_dataset(f"folder:{tmp_path}", image_size=8, channels=1)


def test_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="No readable PNG/JPEG images in .* \\(1 candidate files, 1 unreadable\\)"):
        (tmp_path / "x.png").write_bytes(b"junk")
        load_dataset(f"folder:{tmp_path}", image_size=8)
    with pytest.raises(ValueError, match="The `image_size` argument is required for folder datasets"):
        load_dataset(f"folder:{tmp_path}")
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"folder:{tmp_path / 'missing'}", image_size=8)
    with pytest.raises(DatasetError, match=r"x\.png is a file, not a folder of images"):
        load_dataset(f"folder:{tmp_path / 'x.png'}", image_size=8)


def test_folder_paths_are_stored_absolute_with_home_expanded(tmp_path, monkeypatch):
    from upgan.gan import TrainConfig

    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert TrainConfig(dataset="folder:imgs").dataset == f"folder:{tmp_path / 'imgs'}"
    assert TrainConfig(dataset="folder:~/faces").dataset == f"folder:{tmp_path / 'home' / 'faces'}"
    assert TrainConfig(dataset="folder:~/faces").run_dir().as_posix() == "runs/folder-faces-nearest"
    with pytest.raises(ValueError, match="The `out` setting must be a folder path or None, not empty. Received out=''"):
        TrainConfig(out="")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(name="svhn"), ValueError, "The `name` argument must be one of mnist5k, mnist, fashion-mnist, cifar10, folder:PATH. Received name='svhn'"),
        (dict(name=3), TypeError, "The `name` argument must be a string. Received name=3"),
        (dict(channels=2), ValueError, r"The `channels` argument must be 1, 3 or None. Received channels=2"),
        (dict(image_size=0), ValueError, "The `image_size` argument must be a positive integer or None. Received image_size=0"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        load_dataset(**kwargs)


def test_conform_matches_pillow():
    from PIL import Image

    # Every RGB triple at a stride of 3 and two that float rounding got wrong ((0,4,168) -> 21,
    # (0,22,49) -> 19), laid out as one square image (conform crops to a square).
    levels = np.arange(0, 256, 3)
    triples = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    triples = np.concatenate([triples, [[0, 4, 168], [0, 22, 49]]])
    side = int(np.ceil(np.sqrt(len(triples))))
    image = np.zeros((side * side, 3), np.uint8)
    image[: len(triples)] = triples
    image = image.reshape(side, side, 3)  # (S, S, 3)
    gray = conform(torch.from_numpy(image).permute(2, 0, 1)[None].contiguous(), None, 1)  # (1, 1, S, S)
    np.testing.assert_array_equal(gray[0, 0].numpy(), np.asarray(Image.fromarray(image).convert("L")))
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (2, 3, 6, 6), dtype=np.uint8)
    up = conform(torch.from_numpy(rgb[:, :1]), 6, 3)
    assert torch.equal(up[:, 0], up[:, 2]) and torch.equal(up[:, 0], torch.from_numpy(rgb[:, 0]))


def test_image_dataset_checks():
    with pytest.raises(TypeError, match=r"The `images` argument must be a uint8 tensor of shape \(N, C, H, W\)"):
        ImageDataset(torch.zeros(2, 1, 4, 4), None, "x")
    with pytest.raises(ValueError, match=r"The `labels` argument must have shape \(2,\). Received labels.shape=\(3,\)"):
        ImageDataset(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.zeros(3), "x")
