"""Train the production rumour model: ONE model for CHECKED (COVID-19 2020) and CED (Weibo 2010–13).

Both sets are used in time order; the last fifth of each (by time) calibrates the probabilities and
picks the flag threshold (see RumourModel.fit), then the model is refitted on everything. Ordinary
posts of the bundle's unlabelled stream sample are learnt as not rumours beside them
(datasets.load_background), so that the personal posts that make up most of a feed are not flagged.
"""

from __future__ import annotations

from rumourwatch.errors import DataBundleError
from rumourwatch.nlp.rumour import RepostModel, RumourConfig, RumourModel
from rumourwatch.nlp.tokenizer import LEXICON_FILE, MedicalTokenizer, discover_words

from .datasets import (
    BACKGROUND_FILE,
    RUMOUR_FILES,
    LabelledDoc,
    describe_verdicts,
    load_background,
    load_rumour_set,
    load_verdict_set,
    split_each,
    time_split,
)

# What the model was trained on, for the manifest and the model card.
TRAINING_FILES = (*RUMOUR_FILES.values(), BACKGROUND_FILE)


def fit_items(sets: dict[str, list[LabelledDoc]], config: RumourConfig | None = None,
              background=()) -> RumourModel:
    """A rumour model fitted on the given labelled docs of each set (each set in time order),
    with `background` (unlabelled ordinary posts, RumourModel.fit) learnt as not rumours."""
    docs, labels, groups = [], [], []
    for name, items in sets.items():
        for it in sorted(items, key=lambda it: it.published_at):
            docs.append(it.doc)
            labels.append(it.label)
            groups.append(name)
    if len(set(labels)) < 2:
        raise ValueError("rumour training needs both rumours and non-rumours")
    model = RumourModel(config or RumourConfig()).fit(docs, labels, groups, background)
    model.trained_until_ = {name: max(it.published_at for it in items).strftime("%Y-%m-%dT%H:%M:%SZ")
                            for name, items in sets.items() if items}
    model.training_counts_ = {name: {"items": len(items), "rumours": sum(it.label for it in items)}
                              for name, items in sets.items()}
    return model


def load_sets(settings, train_fraction: float = 1.0, names=("checked", "ced"),
              echo=None) -> dict[str, list[LabelledDoc]]:
    """Each set in time order, cut to its earliest `train_fraction` (1.0 = all of it)."""
    sets = {}
    for name in names:
        items, rejected = load_rumour_set(settings, name)
        if rejected and echo:
            echo(f"  {name}: {len(rejected)} records set aside, e.g. line {rejected[0].line}: "
                 f"{rejected[0].reason}")
        sets[name] = items if train_fraction >= 1.0 else time_split(items, train_fraction)[0]
    return sets


def background_for(settings, sets: dict[str, list[LabelledDoc]], before: str | None = None,
                   echo=None) -> list:
    """load_background for a model trained on `sets`: leaving out copies of their rumours."""
    rumours = [it.doc.text for items in sets.values() for it in items if it.label == 1]
    try:
        docs, rejected = load_background(settings, before=before, unlike=rumours)
    except DataBundleError as exc:
        raise DataBundleError(f"{exc}: the rumour model learns its ordinary posts as not rumours, so "
                              "that the personal posts of a feed are not flagged (models/cards/rumour.md). "
                              "Restore the file, or train without them (RumourConfig background_weight=0)"
                              ) from None
    if echo:
        echo(f"  background: {len(docs)} ordinary posts of {BACKGROUND_FILE}"
             + (f" dated before {before}" if before else "") + " learnt as not rumours"
             + (f"; {len(rejected)} records set aside, e.g. line {rejected[0].line}: {rejected[0].reason}"
                if rejected else ""))
    return docs


def uses_background(config: RumourConfig | None) -> bool:
    return (config or RumourConfig()).background_weight > 0


def fit(settings, config: RumourConfig | None = None, train_fraction: float = 1.0,
        verdicts_db=None, echo=None) -> RumourModel:
    """The production rumour model from the bundle at `settings.data_dir` (deterministic), plus,
    with `verdicts_db`, the items of that store that monitors and experts gave a verdict: a third
    set, calibrated on its own latest fifth like the others."""
    verdicts = []
    if verdicts_db is not None:  # read first: a wrong path fails before minutes of loading
        verdicts, rejected = load_verdict_set(verdicts_db)
        if echo:
            echo("  " + describe_verdicts(verdicts_db, verdicts, rejected))
    sets = load_sets(settings, train_fraction, echo=echo)
    if verdicts:
        sets["verdicts"] = verdicts
    background = background_for(settings, sets, echo=echo) if uses_background(config) else []
    model = fit_items(sets, config, background)
    model.tokenizer_ = explanation_tokenizer(settings, sets, background, echo)
    return model


# Reactions read per item for word discovery: a viral item's thousands of reactions repeat
# themselves, and counting all of them would take minutes for few new words.
REACTIONS_FOR_WORDS = 30


def explanation_tokenizer(settings, sets: dict[str, list[LabelledDoc]], background=(),
                          echo=None) -> MedicalTokenizer:
    """jieba with the THUOCL medical lexicon and the words discovered (tokenizer.discover_words) in
    the training items, the first REACTIONS_FOR_WORDS of their reactions with words of their own,
    and the background posts: carried inside the artifact, so explanations are in the feed's words
    (微博, 卫健委, names) instead of single characters. Costs about 10 s and 360 MB at training."""
    base = MedicalTokenizer.from_bundle(settings.data_dir)
    worded = RepostModel().worded
    texts = [it.doc.text for items in sets.values() for it in items]
    texts += [said for items in sets.values() for it in items
              for said in worded(it.doc)[:REACTIONS_FOR_WORDS]]
    texts += [d.text for d in background]
    found = discover_words(texts, base)
    if echo:
        echo(f"  explanations: {len(base.user_words)} medical lexicon words and {len(found)} words "
             f"found in {len(texts)} training texts, e.g. {'、'.join(w for w, _ in found[:8])}")
    return MedicalTokenizer(list(base.user_words) + found)


__all__ = ["LEXICON_FILE", "TRAINING_FILES", "background_for", "explanation_tokenizer", "fit", "fit_items", "load_sets", "split_each", "uses_background"]
