"""Commands: faces, train-classifier, apply-classifier, learning-curve, timeline, highlights, align."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

Workspace_ = Annotated[Path, typer.Option("--out", "-o", "--workspace", help="Workspace folder.")]
Task_ = Annotated[str, typer.Option(help="Prediction task holding the face boxes.")]
MinScore_ = Annotated[float, typer.Option(help="Face probability a box needs to count (face counts, crops, "
                                          "classifier inputs).")]
Square_ = Annotated[bool, typer.Option("--square/--no-square", help="Pad face crops to a square (black outside "
                                       "the image) instead of the bare box.")]
Padding_ = Annotated[float, typer.Option(help="Context around a face, a fraction of its long side per side.")]
Clahe_ = Annotated[bool, typer.Option("--clahe", help="CLAHE contrast normalisation (cv2.createCLAHE).")]
Gray_ = Annotated[bool, typer.Option("--gray", help="Grayscale.")]
Concept_ = Annotated[str | None, typer.Option(help="Concept whose labels (from the app) to learn.")]
Labels_ = Annotated[Path | None, typer.Option(help="Labels CSV instead: video, frame_index, label [, face, group].")]
On_ = Annotated[str, typer.Option(help="frames (whole frames) or faces (face crops of the faces task).")]
GroupBy_ = Annotated[str, typer.Option(help="Keep groups apart in splits: video, group (the labels CSV column) or "
                                       "a metadata key holding a person id.")]
Name_ = Annotated[str | None, typer.Option(help="Model/score name (default: the concept or CSV name); scores are "
                                           "stored as analytics/NAME_probability.")]
Embedder_ = Annotated[str, typer.Option(help="Embedder of the inputs: efficientnet_lite0 | pixels | clip.")]
Augment_ = Annotated[int, typer.Option(help="Augmented copies of each training example (flip, lighting, side "
                                       "cut-off).")]
NoFlip_ = Annotated[bool, typer.Option("--no-flip", help="No horizontal flips (for concepts that are not "
                                       "mirror-symmetric).")]
Cutoff_ = Annotated[float, typer.Option(help="Probability of a random side cut-off in an augmented copy.")]
TestSize_ = Annotated[float, typer.Option(help="Fraction of the groups held out in each split.")]
Repeats_ = Annotated[int, typer.Option(help="Grouped splits to average over.")]
C_ = Annotated[float, typer.Option("--c", help="Inverse regularisation of the logistic regression.")]
Seed_ = Annotated[int, typer.Option(help="Random seed (splits, augmentation).")]
Device_ = Annotated[str | None, typer.Option(help="cpu, cuda (default: cuda when available).")]
BatchSize_ = Annotated[int, typer.Option(help="Images per model call.")]
Videos_ = Annotated[list[str] | None, typer.Option("--video", help="Only these videos (names; repeatable).")]


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _training_options(
    concept: Concept_ = None,
    labels: Labels_ = None,
    on: On_ = "frames",
    group_by: GroupBy_ = "video",
    name: Name_ = None,
    embedder: Embedder_ = "efficientnet_lite0",
    task: Task_ = "faces",
    min_score: MinScore_ = 0.9,
    square: Square_ = True,
    padding: Padding_ = 0.0,
    clahe: Clahe_ = False,
    gray: Gray_ = False,
    augment: Augment_ = 2,
    no_flip: NoFlip_ = False,
    cutoff_p: Cutoff_ = 0.5,
    test_size: TestSize_ = 0.25,
    repeats: Repeats_ = 5,
    c: C_ = 10.0,
    seed: Seed_ = 0,
    device: Device_ = None,
    batch_size: BatchSize_ = 32,
) -> dict[str, Any]:
    """The options train-classifier and learning-curve share (declared once, see ``_with_training_options``)."""
    return dict(locals())


def _with_training_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command(out, opts, **own)`` the shared training options; Typer sees one flat signature."""
    shared = inspect.signature(_training_options, eval_str=True).parameters
    own = inspect.signature(command, eval_str=True).parameters
    params = [own["out"], *shared.values(), *(p for n, p in own.items() if n not in ("out", "opts"))]
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        opts = _training_options(**{k: kwargs.pop(k) for k in shared})
        command(out=kwargs.pop("out"), opts=opts, **kwargs)

    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper


def _prepare(out: Path, opts: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Workspace, embedder, crop spec and training data (labels are checked before any model loads)."""
    from framesift.analytics.augment import Augmenter
    from framesift.analytics.dataset import labeled_examples, training_data
    from framesift.analytics.faces import CropSpec
    from framesift.embed import get_embedder
    from framesift.errors import FramesiftError
    from framesift.workspace import Workspace

    if opts["augment"] < 0 or not 0 <= opts["cutoff_p"] <= 1:
        raise FramesiftError("--augment must be >= 0 and --cutoff-p within [0, 1]")
    workspace = Workspace.open(out, create=False)
    examples = labeled_examples(workspace.catalog, concept=opts["concept"], labels_csv=opts["labels"], on=opts["on"],
                                group_by=opts["group_by"], task=opts["task"], min_score=opts["min_score"])
    typer.echo(examples.summary())
    key, device = opts["embedder"], opts["device"]
    model = get_embedder(key, **({"device": device} if device and key == "efficientnet_lite0" else {}))
    spec = CropSpec(square=opts["square"], padding=opts["padding"], clahe=opts["clahe"], gray=opts["gray"])
    augmenter = Augmenter(flip=not opts["no_flip"], cutoff_p=opts["cutoff_p"])
    data = training_data(workspace, examples, model, on=opts["on"], spec=spec, augmenter=augmenter,
                         n_augment=opts["augment"], seed=opts["seed"], batch_size=opts["batch_size"])
    return workspace, model, spec, data


def _default_name(opts: dict[str, Any]) -> str:
    from framesift.analytics.scoring import slug

    labels = opts["labels"]
    return slug(opts["name"] or opts["concept"] or (labels.stem if labels else "classifier"))


def register(app: typer.Typer) -> None:
    @app.command()
    def faces(
        out: Workspace_,
        crops: Annotated[Path | None, typer.Option(help="Also write face crops here as <frame stem>-<i>.png.")] = None,
        square: Square_ = True,
        padding: Padding_ = 0.0,
        clahe: Clahe_ = False,
        gray: Gray_ = False,
        size: Annotated[int | None, typer.Option(help="Crop side in pixels (default: native).")] = None,
        task: Task_ = "faces",
        fps: Annotated[float | None, typer.Option(help="Look at about this many indexed frames per second.")] = None,
        frame_stride: Annotated[int | None, typer.Option(help="Look at every k-th frame (by frame index).")] = None,
        min_face_size: Annotated[int, typer.Option(help="Smallest face side MTCNN looks for, in pixels.")] = 20,
        conf: Annotated[float | None, typer.Option(help="MTCNN final-stage threshold (default 0.7).")] = None,
        min_score: MinScore_ = 0.9,
        device: Device_ = None,
        batch_size: BatchSize_ = 16,
        replace: Annotated[bool, typer.Option("--replace", help="Overwrite a task holding another model's "
                                              "boxes.")] = False,
    ) -> None:
        """Faces per frame with MTCNN (offline weights), face counts over time, optional face crops."""
        from framesift.analytics.faces import CropSpec, detect, face_count_scores, write_face_crops
        from framesift.errors import FramesiftError
        from framesift.workspace import Workspace

        if fps is not None and frame_stride is not None:
            raise FramesiftError("faces: give --fps or --frame-stride, not both")
        if padding < 0 or (size is not None and size < 8):
            raise FramesiftError("faces: --padding must be >= 0 and --size >= 8")
        workspace = Workspace.open(out, create=False)
        summary = detect(workspace, task=task, batch_size=batch_size, fps=fps, frame_stride=frame_stride,
                         replace=replace, device=device, min_face_size=min_face_size, conf=conf)
        typer.echo("\n".join(summary.lines()))
        n = face_count_scores(workspace, task, min_score)
        typer.echo(f"face_count, second_person: {n} frames (scores analytics/face_count, analytics/second_person)")
        if crops is not None:
            spec = CropSpec(square=square, padding=padding, clahe=clahe, gray=gray, size=size)
            typer.echo(write_face_crops(workspace, crops, spec, task=task, min_score=min_score).line())

    @app.command("train-classifier")
    @_with_training_options
    def train_classifier_cmd(
        out: Workspace_,
        opts: dict[str, Any],
        score: Annotated[bool, typer.Option("--score/--no-score", help="Score every frame afterwards "
                                            "(analytics/NAME_probability).")] = True,
    ) -> None:
        """Train a frame/face classifier from labels; print held-out ROC AUC on grouped splits; save it."""
        from framesift.analytics.classifier import SplitError, evaluate, fit
        from framesift.analytics.scoring import AnalyticsModel, save_model, score_name, score_workspace
        from framesift.errors import FramesiftError

        model_name = _default_name(opts)
        workspace, model, spec, data = _prepare(out, opts)
        y, groups = data.examples.label, data.examples.group
        try:
            estimate = evaluate(data.base, data.augmented, y, groups, test_size=opts["test_size"],
                                repeats=opts["repeats"], seed=opts["seed"], c=opts["c"])
        except SplitError as err:
            raise FramesiftError(f"train-classifier: {err}") from None
        classifier = fit(data.base, data.augmented, y, c=opts["c"], embedder=model.key)
        facts = {"concept": opts["concept"], "labels": str(opts["labels"]) if opts["labels"] else None,
                 "group_by": opts["group_by"], "roc_auc": estimate.auc, "roc_auc_std": estimate.auc_std,
                 "roc_auc_splits": estimate.aucs, "test_size": opts["test_size"], "n_groups": estimate.n_groups,
                 "augment": opts["augment"], "flip": not opts["no_flip"], "cutoff_p": opts["cutoff_p"]}
        on = opts["on"]
        analytics_model = AnalyticsModel(model_name, on, classifier, spec, opts["task"],
                                         opts["min_score"] if on == "faces" else 0.0, facts)
        path = save_model(workspace, analytics_model)
        typer.echo(f"ROC AUC {estimate.auc:.3f} ± {estimate.auc_std:.3f} on held-out {opts['group_by']} groups "
                   f"({len(estimate.aucs)} splits, {estimate.n_groups} groups, {opts['test_size']:.0%} held out)")
        typer.echo(f"model: {path}")
        if score:
            n = score_workspace(workspace, analytics_model, model, batch_size=opts["batch_size"])
            typer.echo(f"{score_name(model_name)}: {n} frames scored (score analytics/{score_name(model_name)})")

    @app.command("apply-classifier")
    def apply_classifier_cmd(
        out: Workspace_,
        name: Annotated[str, typer.Option(help="Model name (WORKSPACE/analytics/models/NAME.json) or a model file.")],
        device: Device_ = None,
        batch_size: BatchSize_ = 32,
    ) -> None:
        """Score every frame with a trained classifier again (e.g. after new videos were ingested)."""
        from framesift.analytics.scoring import load_model, score_name, score_workspace
        from framesift.embed import get_embedder
        from framesift.workspace import Workspace

        workspace = Workspace.open(out, create=False)
        model = load_model(workspace, name)
        key = model.classifier.embedder
        embedder = get_embedder(key, **({"device": device} if device and key == "efficientnet_lite0" else {}))
        n = score_workspace(workspace, model, embedder, batch_size=batch_size)
        typer.echo(f"{score_name(model.name)}: {n} frames scored (score analytics/{score_name(model.name)})")

    @app.command("learning-curve")
    @_with_training_options
    def learning_curve_cmd(
        out: Workspace_,
        opts: dict[str, Any],
        sizes: Annotated[list[str] | None, typer.Option(help="Training-set sizes, e.g. 8,16,32 (default: "
                                                        "doubling up to all).")] = None,
    ) -> None:
        """Held-out ROC AUC vs training-set size (grouped splits): CSV + PNG in WORKSPACE/analytics/."""
        from framesift.analytics.classifier import SplitError, learning_curve
        from framesift.analytics.curves import write_learning_curve
        from framesift.errors import FramesiftError

        try:
            wanted = [int(s) for s in _split(sizes) or []] or None
        except ValueError:
            raise FramesiftError(f"--sizes {sizes}: give whole numbers, e.g. 8,16,32") from None
        model_name = _default_name(opts)
        workspace, _, _, data = _prepare(out, opts)
        try:
            points = learning_curve(data.base, data.augmented, data.examples.label, data.examples.group, wanted,
                                    test_size=opts["test_size"], repeats=opts["repeats"], seed=opts["seed"],
                                    c=opts["c"])
        except SplitError as err:
            raise FramesiftError(f"learning-curve: {err}") from None
        for p in points:
            typer.echo(f"n={p.size:5d}  ROC AUC {p.auc:.3f} ± {p.auc_std:.3f}  ({p.n_splits} splits)")
        title = f"{model_name} ({opts['on']}, held-out {opts['group_by']} groups)"
        csv_path, png_path = write_learning_curve(workspace, model_name, points, title=title)
        typer.echo(f"learning curve: {csv_path}, {png_path}")

    @app.command()
    def timeline(
        out: Workspace_,
        scores: Annotated[list[str] | None, typer.Option(help="Scores to plot as TASK/NAME (comma-separated or "
                                                         "repeated; default: all analytics scores).")] = None,
        video: Videos_ = None,
        smooth: Annotated[float, typer.Option(help="Also draw a moving average over this many seconds.")] = 0.0,
    ) -> None:
        """Score curves over time per video: CSV + PNG in WORKSPACE/analytics/timelines/."""
        from framesift.analytics import store
        from framesift.analytics.timelines import write_timeline
        from framesift.errors import FramesiftError
        from framesift.workspace import Workspace

        workspace = Workspace.open(out, create=False)
        refs = _split(scores)
        for ref in refs or []:
            store.check_score(workspace.catalog, *store.parse_score_ref(ref))
        if not refs and not store.score_names(workspace.catalog):
            raise FramesiftError("timeline: no analytics scores yet; run `framesift faces` or `framesift "
                                 "train-classifier`, or pass --scores TASK/NAME")
        for row in store.videos(workspace.catalog, _split(video)):
            csv_path, png_path, series = write_timeline(workspace, row.id, refs, smooth_s=smooth)
            typer.echo(f"{row.name}: {len(series)} series -> {csv_path}, {png_path}")

    @app.command()
    def highlights(
        out: Workspace_,
        score: Annotated[str, typer.Option(help="Score to rank frames by, TASK/NAME (e.g. "
                                           "analytics/smile_probability).")],
        k: Annotated[int, typer.Option("--k", help="Frames per video.")] = 8,
        min_gap: Annotated[float, typer.Option(help="Minimum seconds between two picked frames.")] = 2.0,
        gif: Annotated[bool, typer.Option("--gif/--no-gif", help="Write a GIF.")] = True,
        mp4: Annotated[bool, typer.Option("--mp4/--no-mp4", help="Write an MP4.")] = True,
        video: Videos_ = None,
        frame_duration: Annotated[float, typer.Option(help="Seconds each frame is shown.")] = 0.5,
        width: Annotated[int, typer.Option(help="Largest reel width in pixels.")] = 480,
        stamp: Annotated[bool, typer.Option("--stamp/--no-stamp", help="Stamp each frame's time in a corner.")] = True,
    ) -> None:
        """A highlight GIF/MP4 per video: the top-k frames by a score, min-gap apart, in time order."""
        from framesift.analytics import store
        from framesift.analytics.reel import build_reel
        from framesift.errors import FramesiftError
        from framesift.workspace import Workspace

        if k < 1 or min_gap < 0 or frame_duration <= 0 or width < 16:
            raise FramesiftError("highlights: need --k >= 1, --min-gap >= 0, --frame-duration > 0, --width >= 16")
        if not gif and not mp4:
            raise FramesiftError("highlights: --no-gif and --no-mp4 leave nothing to write; keep one")
        workspace = Workspace.open(out, create=False)
        task, name = store.parse_score_ref(score)
        store.check_score(workspace.catalog, task, name)
        for row in store.videos(workspace.catalog, _split(video)):
            reel = build_reel(workspace, row, task, name, k=k, min_gap_s=min_gap, gif=gif, mp4=mp4,
                              frame_duration_s=frame_duration, max_width=width, label=stamp)
            typer.echo(reel.line())

    @app.command()
    def align(
        a: Annotated[str, typer.Option("--a", help="First recording: a video file, or a video name with --out.")],
        offset_a: Annotated[float, typer.Option(help="Session time (s) at which A starts.")],
        b: Annotated[str, typer.Option("--b", help="Second recording.")],
        offset_b: Annotated[float, typer.Option(help="Session time (s) at which B starts.")],
        out: Annotated[Path | None, typer.Option("--out", "-o", "--workspace", help="Workspace: store each video's "
                                                 "window so faces crops, scores, timelines and highlights keep to "
                                                 "it.")] = None,
        duration_a: Annotated[float | None, typer.Option(help="Duration of A (default: from the file).")] = None,
        duration_b: Annotated[float | None, typer.Option(help="Duration of B (default: from the file).")] = None,
    ) -> None:
        """The interval where both recordings of a session run; with --out, restrict analysis to it."""
        from framesift.analytics.alignment import Recording, session_overlap
        from framesift.analytics.store import find_video, save_window
        from framesift.errors import FramesiftError
        from framesift.video.decode import probe
        from framesift.workspace import Workspace

        workspace = Workspace.open(out, create=False) if out is not None else None
        recordings, rows = [], []
        for label, ref, offset, duration in (("A", a, offset_a, duration_a), ("B", b, offset_b, duration_b)):
            row = find_video(workspace.catalog, ref) if workspace is not None else None
            if duration is None:
                duration = row.duration_s if row is not None and row.duration_s else None
            if duration is None:
                path = row.path if row is not None else ref
                try:
                    duration = probe(path).duration_s
                except FramesiftError as err:
                    raise FramesiftError(f"--{label.lower()} {ref}: {err}") from None
            if not duration or duration <= 0:
                raise FramesiftError(f"--{label.lower()} {ref}: unknown duration; pass --duration-{label.lower()}")
            recordings.append(Recording(label, offset, float(duration)))
            rows.append(row)
        overlap = session_overlap(recordings)
        if overlap is None:
            raise FramesiftError(f"align: the recordings never run at once (A {offset_a:g}-{recordings[0].end_s:g} s, "
                                 f"B {offset_b:g}-{recordings[1].end_s:g} s of session time); check the offsets")
        typer.echo(f"session overlap: {overlap.start_s:.3f}-{overlap.end_s:.3f} s ({overlap.duration_s:.3f} s)")
        for rec, ref, row in zip(recordings, (a, b), rows, strict=True):
            window = overlap.windows[rec.name]
            typer.echo(f"{rec.name} {ref}: local {window.start_s:.3f}-{window.end_s:.3f} s of {rec.duration_s:.3f} s")
            if workspace is not None and row is not None:
                save_window(workspace.catalog, row.id, window, rec.offset_s)
        if workspace is not None:
            typer.echo("analysis windows stored; faces crops, classifier scores, timelines and highlights keep to them")
