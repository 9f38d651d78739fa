"""Run an Encord upload plan (encord.py) through the ``encord`` SDK.

Calls: ``EncordUserClient.create_with_ssh_private_key(...)``, ``create_dataset(title,
StorageLocation.CORD_STORAGE, description)``, ``get_dataset(hash)`` and, per video,
``dataset.create_image_group(file_paths, title=..., create_video=True)``. ``make_encord_client``
is the only place that builds the SDK client; tests pass their own factory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framesift.errors import FramesiftError


@dataclass
class EncordCredentials:
    ssh_key_file: Path | None = None
    ssh_key: str | None = None
    domain: str | None = None

    @classmethod
    def resolve(cls, key_file: Path | None, domain: str | None) -> EncordCredentials:
        """--ssh-key-file first, then ENCORD_SSH_KEY_FILE / ENCORD_SSH_KEY (the SDK's own variables)."""
        key_file = key_file or (Path(os.environ["ENCORD_SSH_KEY_FILE"]) if os.environ.get("ENCORD_SSH_KEY_FILE") else None)
        key = None if key_file else os.environ.get("ENCORD_SSH_KEY")
        if key_file is None and not key:
            raise FramesiftError("Encord upload needs a key: pass --ssh-key-file or set ENCORD_SSH_KEY_FILE / ENCORD_SSH_KEY")
        if key_file is not None and not key_file.expanduser().is_file():
            raise FramesiftError(f"{key_file}: SSH private key file not found; pass the key registered with Encord")
        return cls(key_file, key, domain)


def make_encord_client(credentials: EncordCredentials) -> Any:
    from encord import EncordUserClient

    options: dict[str, Any] = {"domain": credentials.domain} if credentials.domain else {}
    if credentials.ssh_key_file is not None:
        return EncordUserClient.create_with_ssh_private_key(ssh_private_key_path=credentials.ssh_key_file, **options)
    return EncordUserClient.create_with_ssh_private_key(ssh_private_key=credentials.ssh_key, **options)


def upload_encord(
    plan: dict[str, Any],
    credentials: EncordCredentials,
    *,
    client_factory: Callable[[EncordCredentials], Any] | None = None,
) -> dict[str, Any]:
    from encord.orm.dataset import StorageLocation

    create = plan["create_dataset"]
    try:
        client = (client_factory or make_encord_client)(credentials)
        created = client.create_dataset(
            dataset_title=create["dataset_title"],
            dataset_type=StorageLocation[create["dataset_type"]],
            dataset_description=create["dataset_description"],
        )
        dataset = client.get_dataset(created.dataset_hash)
        groups = []
        for group in plan["image_groups"]:
            made = dataset.create_image_group(group["file_paths"], title=group["title"], create_video=group["create_video"])
            groups.append({"title": group["title"], "data_hashes": [_data_hash(m) for m in made or []]})
    except FramesiftError:
        raise
    except Exception as err:
        raise FramesiftError(f"Encord upload failed: {err}; the plan is in encord_upload.json of the export") from err
    return {"dataset_hash": created.dataset_hash, "image_groups": groups}


def _data_hash(item: Any) -> str | None:
    value = getattr(item, "data_hash", None)
    if value is None and isinstance(item, dict):
        value = item.get("data_hash")
    return None if value is None else str(value)
