"""Fetch dataset files over HTTP(S) into the data folder, with a clear offline message."""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from upgan.data.dataset import DatasetError

__all__ = ["ensure_files"]


def ensure_files(folder: Path, files: dict[str, str], dataset: str, download: bool) -> None:
    """Make sure every file in ``files`` (name -> URL) exists in ``folder``.

    Missing files are downloaded when ``download`` is true, each to a temporary
    name then renamed, so an interrupted download never leaves a partial file
    under the final name.

    Args:
        folder: destination folder (created when needed).
        files: file name -> URL.
        dataset: dataset name for messages.
        download: try the network for missing files.

    Raises:
        DatasetError: a file is missing and cannot be downloaded; the message lists
            every URL and the path each file must be saved to.

    >>> ensure_files(Path("/nonexistent"), {"a.gz": "https://example.org/a.gz"}, "demo", download=False)
    Traceback (most recent call last):
    ...
    upgan.data.dataset.DatasetError: Dataset 'demo' needs files that are not in /nonexistent ...
    """
    missing = {name: url for name, url in files.items() if not (folder / name).is_file()}
    if not missing:
        return
    reason = "downloading is off"
    if download:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, url in missing.items():
                tmp = folder / f".{name}.part"
                try:
                    with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                        shutil.copyfileobj(response, out)
                    os.replace(tmp, folder / name)
                finally:
                    tmp.unlink(missing_ok=True)
            return
        except (urllib.error.URLError, OSError) as err:
            reason = f"download failed: {err}"
    missing = {name: url for name, url in missing.items() if not (folder / name).is_file()}  # some may have come
    listing = "\n".join(f"  {url}\n    -> {folder / name}" for name, url in missing.items())
    raise DatasetError(
        f"Dataset '{dataset}' needs files that are not in {folder} ({reason}). "
        f"Fetch them on a machine with network access and put them here:\n{listing}"
    )
