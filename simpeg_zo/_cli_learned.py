"""The learned inversion's commands: ``dataset``, ``train`` and ``combine``.

``dataset general`` and ``train`` on such a set make the survey-neutral network.
"""

from __future__ import annotations

import numpy as np

from ._console import (
    UserError,
    add_engine_options,
    check_output_dir,
    check_output_file,
    check_solver,
    load_spec_arg,
    split_list,
)

__all__ = ["LOSS_NAMES", "add_learned_commands"]

#: Names of the training losses (``simpeg_zo.learned.LOSSES``; listed here so
#: that building the parser does not import torch).
LOSS_NAMES = ("dice", "cross-entropy", "dice+cross-entropy", "dice+regression", "dice+cross-entropy+regression")


def _cmd_dataset(args):
    import pathlib

    from .learned import DatasetConfig

    check_output_dir("out", args.out)
    if args.survey == "general":
        return _general_dataset(args)
    if args.domain_share is not None:
        raise UserError("--domain-share applies to 'simpeg-zo dataset general' only")
    options = dict(
        seed=args.seed,
        shard_size=args.shard_size,
        noise_share=args.noise_share,
        topography_share=args.topography_share,
        perturbation=args.perturbation,
    )
    if args.resistivity_range is not None:
        lo, hi = args.resistivity_range
        if not 0 < lo < hi:
            raise UserError(f"--resistivity-range must be 0 < LOW < HIGH, got {lo} {hi}")
        options["log10_resistivity"] = (float(np.log10(lo)), float(np.log10(hi)))
    try:
        source = pathlib.Path(args.survey)
        if source.is_dir() or args.survey.lower().endswith(".edi"):
            # the survey of a field profile: projected stations, the default band
            from ._field import read_edi_survey

            survey = read_edi_survey(args.survey if source.is_dir() else split_list(args.survey))
            config = DatasetConfig.from_survey(
                survey.along,
                survey.frequencies,
                frequency_step=args.frequency_step,
                depth_max=args.depth_max,
                survey=f"EDI profile {args.survey}",
                **options,
            )
        else:
            spec = load_spec_arg(args.survey)
            config = DatasetConfig.from_spec(
                spec, frequency_step=args.frequency_step, depth_max=args.depth_max, **options
            )
    except ValueError as err:
        raise UserError(str(err)) from None
    print(
        f"training set for the {config.survey} survey: {config.stations.size} stations x "
        f"{config.frequencies.size} frequencies, model grid {config.depth_centres.size} x "
        f"{config.stations.size} to {config.depth_edges[-1]:.0f} m; {args.train} train + "
        f"{args.test} held-out samples into {args.out}"
    )
    return _produce(args, config)


def _general_dataset(args):
    from .learned import GeneralConfig

    share = {} if args.domain_share is None else {"domain_share": args.domain_share}
    try:
        config = GeneralConfig(seed=args.seed, shard_size=args.shard_size, **share)
    except ValueError as err:
        raise UserError(str(err)) from None  # names the setting (domain_share, shard_size)
    print(
        f"training set of random surveys for the survey-neutral network: {args.train} train + {args.test} "
        f"held-out samples into {args.out}"
    )
    return _produce(args, config)


def _produce(args, config):
    """Produce (or resume) the set of ``config`` as the ``dataset`` command's arguments say."""
    import pathlib

    from .learned import produce_dataset

    try:
        summary = produce_dataset(
            pathlib.Path(args.out),
            config,
            train=args.train,
            test=args.test,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=args.verbosity >= 0,
            solver=check_solver(args.solver),
        )
    except (ValueError, ImportError) as err:
        raise UserError(str(err)) from None
    print(
        f"{summary['samples']} samples simulated in {summary['seconds']:.0f} s on {summary['workers']} "
        f"worker(s): {summary['samples_per_minute_per_worker']:.1f} samples per minute per worker"
        f" ({summary['skipped']} already on disk)"
    )
    return 0


def _is_general(folder):
    import json
    import pathlib

    manifest = pathlib.Path(folder) / "dataset.json"
    try:
        return json.loads(manifest.read_text())["config"].get("kind") == "general"
    except (OSError, ValueError, KeyError, AttributeError):
        return False


def _cmd_train(args):
    from .learned import train_general, train_network

    check_output_file("out", args.out + ".pt")
    general = _is_general(args.dataset)
    if args.members < 1:
        raise UserError(f"--members must be >= 1, got {args.members}")
    if args.members > 1 and not general:
        raise UserError(
            "--members applies to a set of random surveys ('simpeg-zo dataset general'); "
            "combine survey networks with 'simpeg-zo combine'"
        )
    train = train_general if general else train_network
    extra = {"members": args.members, "member": args.member} if general else {}
    if args.member is not None and not general:
        raise UserError("--member applies to a set of random surveys ('simpeg-zo dataset general')")
    if args.init is not None:
        extra["init"] = args.init
    try:
        est = train(
            args.dataset,
            args.out,
            limit=args.limit,
            validation_samples=args.validation_samples,
            width=args.width,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            loss=args.loss or ("dice+regression" if general else "dice"),
            seed=args.seed,
            progress=args.verbosity >= 0,
            threads=args.threads,
            **extra,
        )
    except (FileNotFoundError, ImportError, ValueError) as err:
        raise UserError(str(err)) from None
    last = est.history_[-1] if est.history_ else {}
    where = args.out
    if args.member is not None and args.members > 1:
        import pathlib

        where = str(pathlib.Path(args.dataset) / "members" / f"{pathlib.Path(args.out).name}-member-{args.member}")
    ensemble = ""
    if general and args.member is None:
        ensemble = f"; {args.members} member(s), spread calibrated (x{est.spread_scale_:.3f})"
    print(
        f"trained {args.epochs} epochs on {est.recipe_['train_samples']} samples"
        + (f"; last loss {last['loss']:.4f}" if "loss" in last else "")
        + (f", validation Dice {last['dice']:.3f}, RMS {last['rms_log10']:.3f} log10" if "rms_log10" in last else "")
        + ensemble
        + f"; network written to {where}.pt/.json"
    )
    return 0


def _cmd_combine(args):
    from .learned import ResNetInverter

    check_output_file("out", args.out + ".pt")
    try:
        members = [ResNetInverter.load(path) for path in args.networks]
        combined = ResNetInverter.combine(members)
    except (FileNotFoundError, ImportError, ValueError) as err:
        raise UserError(str(err)) from None
    combined.save(args.out)
    print(f"{len(members)} networks ({combined.loss}) combined into {args.out}.pt/.json")
    return 0


def add_learned_commands(sub, common) -> None:
    """Add ``dataset``, ``train`` and ``combine`` to the subcommands ``sub``."""
    p = sub.add_parser("dataset", parents=[common], help="produce (or resume) a training set for the learned inversion")
    p.add_argument(
        "survey",
        help="spec file, preset or EDI folder whose survey (stations, frequencies) the network serves, or "
        "'general': random surveys for the survey-neutral network",
    )
    p.add_argument("out", help="output folder (rerun the same command to resume)")
    p.add_argument("--train", type=int, default=900, help="training samples (default 900)")
    p.add_argument("--test", type=int, default=120, help="held-out samples (default 120)")
    p.add_argument("--workers", type=int, default=2, help="local Dask workers (0: this process)")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.add_argument("--frequency-step", type=int, default=5, help="simulate every N-th frequency (default 5)")
    p.add_argument(
        "--resistivity-range",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        default=None,
        help="resistivities the models draw from (ohm-m; default 3.16 3162)",
    )
    p.add_argument(
        "--depth-max",
        type=float,
        default=None,
        help="depth of the model grid below the surface (m; default: the profile length)",
    )
    p.add_argument("--shard-size", type=int, default=25)
    p.add_argument("--noise-share", type=float, default=0.5, help="share of samples with 5%% noise")
    p.add_argument("--topography-share", type=float, default=0.5)
    p.add_argument(
        "--perturbation",
        type=float,
        default=0.5,
        help="random perturbation of the training values around their steps, in steps (default 0.5: the values "
        "fill the range; 0.25: the first sets)",
    )
    p.add_argument(
        "--domain-share",
        type=float,
        default=None,
        help="'general' only: share of the models that are crustal domains (dipping contacts between unrelated "
        "layered columns; default 0.4)",
    )
    p.add_argument("--seed", type=int, default=0)
    add_engine_options(p, workers=False)
    p.set_defaults(func=_cmd_dataset)

    p = sub.add_parser("train", parents=[common], help="train the ResNet-50 network on a training set")
    p.add_argument("dataset", help="folder written by 'simpeg-zo dataset'")
    p.add_argument("out", help="network path (writes OUT.pt and OUT.json; checkpoints go to DATASET/checkpoints)")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--width", type=float, default=0.25, help="ResNet-50 width multiplier (1: original)")
    p.add_argument("--loss", default=None, choices=LOSS_NAMES, help="default dice (dice+regression for random surveys)")
    p.add_argument(
        "--members",
        type=int,
        default=1,
        help="networks of a deep ensemble (a set of random surveys only; its spread is calibrated on the "
        "validation split)",
    )
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=3e-3)
    p.add_argument("--limit", type=int, default=None, help="use only the first N training samples")
    p.add_argument(
        "--validation-samples",
        type=int,
        default=200,
        help="the last N training samples are a fixed validation split, not trained on (default 200)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument(
        "--member",
        type=int,
        default=None,
        help="train only this member of the ensemble (to run members in parallel processes; rerun without it "
        "to combine them)",
    )
    p.add_argument(
        "--init",
        default=None,
        help="fine-tune this network (a path or shipped name; 'general': the survey-neutral one) instead of "
        "training from scratch; on a set of random surveys each member of an ensemble starts from its own member",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "combine",
        parents=[common],
        help="one network from several trained on the same set: the mean of their class probabilities",
    )
    p.add_argument("out", help="network path (writes OUT.pt and OUT.json)")
    p.add_argument("networks", nargs="+", help="networks written by 'simpeg-zo train' (at least two)")
    p.set_defaults(func=_cmd_combine)
