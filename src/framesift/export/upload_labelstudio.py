"""Create (or fill) a Label Studio project from an export through ``label-studio-sdk`` (1.x/2.x API).

Calls: ``projects.create(title, label_config, ...)``, optionally
``import_storage.local.create(project, path, ...)`` so Label Studio may serve the exported PNGs,
then ``projects.import_tasks(id, request=tasks)``. ``make_labelstudio_client`` is the only place the
SDK client is built; tests pass a client whose HTTP transport records the requests.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framesift.errors import FramesiftError
from framesift.export.labelstudio import LOCAL_FILES
from framesift.export.model import ExportSet


@dataclass
class LabelStudioServer:
    url: str
    token: str
    project_id: int | None = None
    title: str | None = None

    @classmethod
    def resolve(cls, url: str | None, token: str | None, project_id: int | None = None,
                title: str | None = None) -> LabelStudioServer:
        """Options first, then LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY."""
        url = url or os.environ.get("LABEL_STUDIO_URL")
        token = token or os.environ.get("LABEL_STUDIO_API_KEY")
        if not url:
            raise FramesiftError("Label Studio upload needs a server: pass --server URL or set LABEL_STUDIO_URL")
        if not token:
            raise FramesiftError("Label Studio upload needs an access token: pass --token or set LABEL_STUDIO_API_KEY")
        return cls(url.rstrip("/"), token, project_id, title)


def make_labelstudio_client(server: LabelStudioServer) -> Any:
    from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=server.url, api_key=server.token)


def upload_labelstudio(
    export: ExportSet,
    tasks: list[dict[str, Any]],
    config: str,
    images_dir: Path,
    server: LabelStudioServer,
    *,
    client_factory: Callable[[LabelStudioServer], Any] | None = None,
) -> dict[str, Any]:
    try:
        client = (client_factory or make_labelstudio_client)(server)
        project_id = server.project_id
        if project_id is None:
            options: dict[str, Any] = {"title": server.title or f"framesift {export.run_name}", "label_config": config,
                                       "description": f"frames selected by framesift run {export.run_name}"}
            if export.task:
                options["model_version"] = export.task
            project_id = int(client.projects.create(**options).id)
        storage_id = None
        if any(t["data"]["image"].startswith(LOCAL_FILES) for t in tasks):
            storage = client.import_storage.local.create(
                project=project_id, path=str(images_dir.resolve()), title="framesift frames", use_blob_urls=False
            )
            storage_id = getattr(storage, "id", None)
        response = client.projects.import_tasks(project_id, request=tasks, return_task_ids=True)
    except FramesiftError:
        raise
    except Exception as err:
        raise FramesiftError(f"Label Studio upload to {server.url} failed: {err}; the export files are in "
                             f"{images_dir.parent}") from err
    return {
        "server": server.url,
        "project_id": project_id,
        "project_url": f"{server.url}/projects/{project_id}",
        "local_storage_id": storage_id,
        "task_count": getattr(response, "task_count", None),
    }
