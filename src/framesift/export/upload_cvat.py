"""Create a CVAT task from an export: images as task data, annotations.xml as pre-annotations.

``make_cvat_client`` is the only place that builds the SDK client; tests pass their own
``client_factory`` and check the exact arguments ``tasks.create_from_data`` receives.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framesift.errors import FramesiftError
from framesift.export.cvat import IMPORT_FORMAT, XML_NAME, images_archive, label_color
from framesift.export.files import IMAGES
from framesift.export.model import ExportSet


@dataclass
class CvatServer:
    url: str
    username: str | None = None
    password: str | None = None
    token: str | None = None
    project_id: int | None = None
    task_name: str | None = None

    @classmethod
    def resolve(cls, url: str | None, username: str | None, password: str | None, token: str | None,
                project_id: int | None = None, task_name: str | None = None) -> CvatServer:
        """Options first, then CVAT_URL / CVAT_USERNAME / CVAT_PASSWORD / CVAT_ACCESS_TOKEN."""
        url = url or os.environ.get("CVAT_URL")
        token = token or os.environ.get("CVAT_ACCESS_TOKEN")
        username = username or os.environ.get("CVAT_USERNAME")
        password = password or os.environ.get("CVAT_PASSWORD")
        if not url:
            raise FramesiftError("CVAT upload needs a server: pass --server URL or set CVAT_URL")
        if not token and not (username and password):
            raise FramesiftError(
                "CVAT upload needs credentials: --user/--password (CVAT_USERNAME/CVAT_PASSWORD) "
                "or --token (CVAT_ACCESS_TOKEN)"
            )
        return cls(url.rstrip("/"), username, password, token, project_id, task_name)


def make_cvat_client(server: CvatServer) -> Any:
    from cvat_sdk import make_client

    if server.token:
        return make_client(server.url, access_token=server.token)
    return make_client(server.url, credentials=(server.username, server.password))


def task_spec(export: ExportSet, server: CvatServer) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": server.task_name or f"framesift {export.run_name}"}
    if server.project_id is not None:
        spec["project_id"] = server.project_id  # a task in a project uses the project's labels
    else:
        spec["labels"] = [
            {"name": c.name, "color": label_color(i), "type": "rectangle", "attributes": []}
            for i, c in enumerate(export.categories)
        ]
    return spec


def upload_cvat(
    export: ExportSet, out_dir: Path, server: CvatServer, *, client_factory: Callable[[CvatServer], Any] | None = None
) -> dict[str, Any]:
    if server.project_id is None and not export.categories:
        raise FramesiftError("a CVAT task needs labels: pass --task (predictions' categories) or --labels a,b")
    with tempfile.TemporaryDirectory(prefix="framesift-cvat-") as tmp:
        archive = images_archive(export, out_dir / IMAGES, Path(tmp))
        client = None
        try:
            client = (client_factory or make_cvat_client)(server)
            task = client.tasks.create_from_data(
                spec=task_spec(export, server),
                resources=[str(archive)],
                data_params={"image_quality": 100, "sorting_method": "lexicographical"},
                annotation_path=str(out_dir / XML_NAME) if export.n_boxes else "",
                annotation_format=IMPORT_FORMAT,
            )
        except FramesiftError:
            raise
        except Exception as err:
            raise FramesiftError(f"CVAT upload to {server.url} failed: {err}; the export files are in {out_dir}") from err
        finally:
            close = getattr(client, "close", None)
            if callable(close):
                close()
    return {"server": server.url, "task_id": task.id, "task_url": f"{server.url}/tasks/{task.id}"}
